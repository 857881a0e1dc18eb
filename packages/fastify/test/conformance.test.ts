import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
import { mount } from './_support/mount';

describeAdapterConformance('fastify', mount);
