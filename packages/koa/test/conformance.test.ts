import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
import Koa from 'koa';
import { mountWith } from './mount';

describeAdapterConformance('koa', mountWith(Koa));
