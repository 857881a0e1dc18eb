import { MemoryCredentialStore } from '@oin-oidc/core';
import { describeCredentialStoreConformance } from '../src/conformance/credential-store';

describeCredentialStoreConformance('MemoryCredentialStore', () => ({ store: new MemoryCredentialStore() }));
