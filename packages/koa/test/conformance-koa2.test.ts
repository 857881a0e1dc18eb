/** The peer range includes Koa 2: the same suite, unchanged, on Koa 2. */
import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
import Koa2 from 'koa2';
import { mountWith } from './_support/mount';

describeAdapterConformance('koa 2', mountWith(Koa2));
