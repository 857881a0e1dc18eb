-- oin-oidc/postgres migration 2: server-side sessions (createPostgresSessionStore).
--
-- Nothing here identifies a user or a session in plaintext: the key is a SHA-256 of the session
-- id, the subject a SHA-256 of (tenant, sub), and the session itself a compact JWE (alg dir, enc
-- A256GCM) bound to its row by oin_tid (= id_hash) and oin_fld ('session') in the protected header.
--
-- A deleted session stays as a tombstone (deleted, data NULL) until it could have expired
-- anyway, so a request that read it before a logout cannot write it back after (connect-redis
-- #328). Every read checks expires_at, so expired rows need no sweeper to stay dead; cleanup()
-- only reclaims space.

CREATE TABLE sessions (
  id_hash            text        PRIMARY KEY CHECK (id_hash ~ '^[A-Za-z0-9_-]{43}$'),
  subject_hash       text        NOT NULL,
  data               text        CHECK (data ~ '^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'),
  key_id             text,
  -- The entry's end: min(written at + ttlSec, the session's expiresAt); for a tombstone, until when writes are refused.
  expires_at         timestamptz NOT NULL,
  -- The session's own expiresAt (absolute end): how long a tombstone must last.
  session_expires_at timestamptz NOT NULL,
  deleted            boolean     NOT NULL DEFAULT false,
  CONSTRAINT sessions_data_unless_deleted CHECK (deleted OR data IS NOT NULL)
);

CREATE INDEX sessions_subject_idx ON sessions (subject_hash) WHERE NOT deleted;
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
