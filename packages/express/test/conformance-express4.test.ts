/** The peer range includes Express 4.21+: the same suite, unchanged, on Express 4. */
import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
import express4 from 'express4';
import { mountWith } from './_support/mount';

describeAdapterConformance('express 4', mountWith(express4));
