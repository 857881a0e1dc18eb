// A standalone app, as a user outside this repository writes it (ES modules, `import`): an Express
// app on @oin-oidc/express, one tenant in core's memory store, one emulated Okta org from
// @oin-oidc/testing. It signs a user in over HTTP (the emulator's login form played by
// driveAuthorization) and checks the session. Run by scripts/standalone.mjs from the installed
// tarballs, never from the workspace.
import { createServer } from 'node:http';
import { createMemoryCredentialStore } from '@oin-oidc/core';
import { oidc } from '@oin-oidc/express';
import { driveAuthorization, startOktaOrg } from '@oin-oidc/testing';
import express from 'express';
import { signInOnce } from './sign-in-steps.mjs';

await signInOnce({ createServer, createMemoryCredentialStore, oidc, driveAuthorization, startOktaOrg, express, label: 'import (ESM)' });
