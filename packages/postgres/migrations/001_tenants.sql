-- oin-oidc/postgres migration 1: the tenant registry.
--
-- Applied by migrate() / `oin-oidc-postgres migrate` inside one transaction, holding
-- pg_advisory_xact_lock, with search_path set to the target schema (default oin_oidc), so the
-- names below are unqualified. Recorded in schema_migrations.
--
-- One row per app instance in a customer's Okta org. No secret is ever stored in plaintext:
-- client_secrets and private_jwk each hold a compact JWE (alg dir, enc A256GCM) whose protected
-- header binds kid, oin_tid (the tenant id) and oin_fld (the column); the CHECKs below refuse
-- anything in those columns that is not shaped like one, and secrets inside `record`.

CREATE SEQUENCE tenant_revision;

CREATE TABLE tenants (
  id             text        PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._~-]{1,128}$'),
  -- Normalised issuer (https://{oktaDomain}, no trailing slash), compared byte for byte.
  issuer         text        NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2048),
  client_id      text        NOT NULL CHECK (length(client_id) BETWEEN 1 AND 256),
  -- Every other, non-secret field of the tenant record (redirect URIs, scopes, flags, ...).
  record         jsonb       NOT NULL CHECK (jsonb_typeof(record) = 'object'
                                             AND NOT (record ?| ARRAY['clientSecret', 'clientSecrets', 'privateJwk'])),
  -- Compact JWE of the clientSecrets array (client_secret_basic / client_secret_post).
  client_secrets text        CHECK (client_secrets ~ '^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'),
  -- Compact JWE of the private JWK (private_key_jwt).
  private_jwk    text        CHECK (private_jwk ~ '^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$'),
  -- The kid that encrypted the secret column: `reencrypt` looks for rows whose kid is not the first key's.
  key_id         text        NOT NULL,
  -- Bumped on every write by the trigger below; processes skip re-decrypting rows they already hold.
  revision       bigint      NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  -- Okta gives every app instance its own client id: a second record with the same pair is a
  -- mistake or a squatter (SA-17). The store maps a violation to ERR_OIDC_INVALID_TENANT.
  CONSTRAINT tenants_issuer_client_id_key UNIQUE (issuer, client_id),
  CONSTRAINT tenants_one_credential CHECK ((client_secrets IS NULL) <> (private_jwk IS NULL))
);

CREATE INDEX tenants_key_id_idx ON tenants (key_id);

-- SET search_path FROM CURRENT: the functions resolve tenant_revision in this schema whatever the
-- caller's search_path is.
CREATE FUNCTION tenants_before_write() RETURNS trigger
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  NEW.revision := nextval('tenant_revision');
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER tenants_before_write BEFORE INSERT OR UPDATE ON tenants
  FOR EACH ROW EXECUTE FUNCTION tenants_before_write();

-- Every write, from the store, the CLI or a DBA's psql, tells every listening process which
-- tenant to reload. The channel is <schema>_tenants (oin_oidc_tenants by default); NOTIFY is
-- delivered at commit, and only then.
CREATE FUNCTION tenants_notify() RETURNS trigger
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_tenants', OLD.id);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.id <> OLD.id) THEN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_tenants', NEW.id);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tenants_notify AFTER INSERT OR UPDATE OR DELETE ON tenants
  FOR EACH ROW EXECUTE FUNCTION tenants_notify();

-- TRUNCATE names no row: '*' (not a valid tenant id) asks for a full reload.
CREATE FUNCTION tenants_notify_truncate() RETURNS trigger
  LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  PERFORM pg_notify(TG_TABLE_SCHEMA || '_tenants', '*');
  RETURN NULL;
END
$$;

CREATE TRIGGER tenants_notify_truncate AFTER TRUNCATE ON tenants
  FOR EACH STATEMENT EXECUTE FUNCTION tenants_notify_truncate();
