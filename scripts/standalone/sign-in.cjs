// The same standalone app as sign-in.mjs, loaded with `require` (CommonJS): proves the packages'
// "require" export conditions resolve and run.
const { createServer } = require('node:http');
const { createMemoryCredentialStore } = require('@oin-oidc/core');
const { oidc } = require('@oin-oidc/express');
const { driveAuthorization, startOktaOrg } = require('@oin-oidc/testing');
const express = require('express');

import('./sign-in-steps.mjs')
  .then(({ signInOnce }) => signInOnce({ createServer, createMemoryCredentialStore, oidc, driveAuthorization, startOktaOrg, express, label: 'require (CommonJS)' }))
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
