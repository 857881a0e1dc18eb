import { describeExampleE2E } from './support/suite';

describeExampleE2E('fastify');
