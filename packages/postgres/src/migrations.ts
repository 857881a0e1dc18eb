/** The migrations this release ships, in order. The SQL lives in `migrations/*.sql` (readable by a DBA, shipped in the package). */
import tenants001 from '../migrations/001_tenants.sql';
import sessions002 from '../migrations/002_sessions.sql';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: '001_tenants', sql: tenants001 },
  { version: 2, name: '002_sessions', sql: sessions002 },
]);
