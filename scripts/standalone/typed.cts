// The CommonJS view of the same packages (the "require" export conditions and their .d.cts types).
import core = require('@oin-oidc/core');
import expressAdapter = require('@oin-oidc/express');
import testing = require('@oin-oidc/testing');

const store: core.CredentialStore = core.createMemoryCredentialStore([]);
const middleware = expressAdapter.oidc({ store, session: { secret: 's'.repeat(40) }, tenant: 'query' });
void [middleware.requiresAuth(), testing.startOktaOrg];
