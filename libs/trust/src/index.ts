// @stinger/trust: Ed25519 keys (files, rotation, key ring), signed policy records and control commands, and the
// checks verifiers make before anything signed changes what is enforced. Pure apart from the key files.
export { SigningKeyMissingError, TrustError } from './errors.ts';
export {
  generateSigningKey,
  installNewSigningKey,
  keyIdOf,
  publicKeyPem,
  readKeyRing,
  readSigningKey,
  retireKey,
  signingKeyFromPem,
  SIGNING_KEY_FILE,
  trustPublicKey,
  TRUSTED_DIR,
  type KeyRing,
  type SigningKey,
} from './keys.ts';
export { MAX_COMMAND_LIFETIME_NS, ReplayGuard, signControlCommand, verifyControlCommand, type CommandVerdict, type VerifyCommandOptions } from './control-signature.ts';
export {
  createPolicyRecordHandler,
  POLICY_SIGNATURE_HEADERS,
  PolicyRecordGate,
  signedPolicyRecord,
  signPolicyRecord,
  verifyPolicyRecord,
  type PolicyRecordHandlerOptions,
  type PolicyRecordInput,
  type PolicyRecordVerdict,
  type SignedRecord,
} from './policy-signature.ts';
export { watchKeyRing, type KeyRingWatch } from './key-ring-watch.ts';
