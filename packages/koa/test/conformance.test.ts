import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
import Koa from 'koa';
import { mountWith } from './_support/mount';

describeAdapterConformance('koa', mountWith(Koa));
