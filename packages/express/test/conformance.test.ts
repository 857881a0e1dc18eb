import { describeAdapterConformance } from '@oin-oidc/testing/conformance';
import express from 'express';
import { mountWith } from './_support/mount';

describeAdapterConformance('express', mountWith(express));
