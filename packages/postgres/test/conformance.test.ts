import { describeCredentialStoreConformance } from '@oin-oidc/testing/conformance';
import { type RunningPostgres, startPostgres } from '@oin-oidc/testing/servers';
import type { Pool } from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { dumpSchema, newPool, openStore } from './helpers';

let server: RunningPostgres;
let pool: Pool;

beforeAll(async () => {
  server = await startPostgres();
  pool = newPool(server);
});

afterAll(async () => {
  await pool.end();
  await server.stop();
});

// A fresh schema per case: the suite wants an empty store each time.
describeCredentialStoreConformance('postgres', async () => {
  const { store, schema } = await openStore(pool);
  const fixture = {
    store,
    cleanup: async () => {
      await store.close();
      await server.admin(`DROP SCHEMA "${schema}" CASCADE`);
    },
    // Hooks of the extended suite: what an attacker with a dump sees, and a ciphertext moved between rows.
    readAtRest: () => dumpSchema(server, schema),
    swapCiphertext: async (fromTenantId: string, toTenantId: string): Promise<void> => {
      await server.admin(
        `UPDATE "${schema}".tenants AS t SET client_secrets = f.client_secrets, private_jwk = f.private_jwk, key_id = f.key_id
         FROM "${schema}".tenants AS f WHERE f.id = '${fromTenantId}' AND t.id = '${toTenantId}'`,
      );
    },
  };
  return fixture;
}, { readAtRest: true, swapCiphertext: true });
