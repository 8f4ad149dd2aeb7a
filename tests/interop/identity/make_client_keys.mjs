#!/usr/bin/env node
// Generates a relying party's keys in the shape the provider registers: one ES256 signing key
// and one ECDH-ES+A256KW encryption key on P-256, each with a thumbprint kid.
//
//   node make_client_keys.mjs PRIVATE_JWKS_FILE [PUBLIC_JWKS_FILE]
//
// The private JWKS stays with the relying party (rp.mjs reads it); the public JWKS (also printed
// to stdout) is what gets registered with the provider or served at the client's jwks_uri.
import { writeFileSync } from 'node:fs'
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'

async function makeKey(alg, use) {
  const { privateKey } = await generateKeyPair(alg, { crv: 'P-256', extractable: true })
  const jwk = await exportJWK(privateKey)
  jwk.kid = await calculateJwkThumbprint(jwk) // thumbprint ignores d: same kid as the public key
  jwk.use = use
  jwk.alg = alg
  return jwk
}

function publicPart(jwk) {
  const { d: _d, ...rest } = jwk
  return rest
}

const [privatePath, publicPath] = process.argv.slice(2)
if (!privatePath) {
  console.error('usage: node make_client_keys.mjs PRIVATE_JWKS_FILE [PUBLIC_JWKS_FILE]')
  process.exit(2)
}
const keys = [await makeKey('ES256', 'sig'), await makeKey('ECDH-ES+A256KW', 'enc')]
writeFileSync(privatePath, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o600 })
const publicJwks = JSON.stringify({ keys: keys.map(publicPart) }, null, 2) + '\n'
if (publicPath) writeFileSync(publicPath, publicJwks)
process.stdout.write(publicJwks)
