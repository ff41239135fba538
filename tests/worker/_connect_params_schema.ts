/**
 * The gateway protocol v3 `ConnectParams` schema (protocol §3.3), written independently of the
 * codec with zod strict objects, so tests check the connect request against the spec rather
 * than against our own validator.
 *
 * @module
 */

import { z } from "zod";

const nonEmpty = z.string().min(1);

/** Gateway v3 `ConnectParams`: every object rejects unknown keys. */
export const CONNECT_PARAMS_SCHEMA = z.strictObject({
  minProtocol: z.int().min(1),
  maxProtocol: z.int().min(1),
  client: z.strictObject({
    id: z.enum([
      "webchat-ui",
      "openclaw-control-ui",
      "webchat",
      "cli",
      "gateway-client",
      "openclaw-macos",
      "openclaw-ios",
      "openclaw-android",
      "node-host",
      "test",
      "fingerprint",
      "openclaw-probe",
    ]),
    displayName: nonEmpty.optional(),
    version: nonEmpty,
    platform: nonEmpty,
    deviceFamily: nonEmpty.optional(),
    modelIdentifier: nonEmpty.optional(),
    mode: z.enum(["webchat", "cli", "ui", "backend", "node", "probe", "test"]),
    instanceId: nonEmpty.optional(),
  }),
  caps: z.array(nonEmpty).optional(),
  commands: z.array(nonEmpty).optional(),
  scopes: z.array(nonEmpty).optional(),
  permissions: z.record(z.string(), z.boolean()).optional(),
  pathEnv: z.string().optional(),
  locale: z.string().optional(),
  userAgent: z.string().optional(),
  role: nonEmpty.optional(),
  device: z.strictObject({
    id: nonEmpty,
    publicKey: nonEmpty,
    signature: nonEmpty,
    signedAt: z.number(),
    nonce: nonEmpty,
  }).optional(),
  auth: z.strictObject({
    token: z.string().optional(),
    bootstrapToken: z.string().optional(),
    deviceToken: z.string().optional(),
    password: z.string().optional(),
  }).optional(),
});
