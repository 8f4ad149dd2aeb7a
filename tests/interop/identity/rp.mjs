#!/usr/bin/env node
// A relying party built on the certified openid-client library, driving the whole FAPI 2.0 flow
// of a provider: discovery, PAR with DPoP, login in a browser, code exchange with
// private_key_jwt + DPoP, the encrypted ID token decrypted and verified, encrypted userinfo.
//
//   node rp.mjs --issuer https://host/id --client-id ID --keys client.private.jwks.json \
//     --redirect-uri https://rp.example/callback [--scope "openid user.identity name"] \
//     [--acr urn:singpass:authentication:loa:2] [--mode MODE] [--callback URL] [--insecure]
//
// The login form is HTML, so after PAR the authorisation URL is printed on stderr and the final
// redirect URL (with code, state, iss) is read from --callback or from the first stdin line.
// Modes: flow (default), wrong-redirect, replay-code, replay-assertion, bad-dpop. The negative
// modes print the error the provider returned. Results are one JSON object on stdout.
//
// --stdio swaps the network for JSON lines: every HTTP request is written to stdout as
// {"type":"http",...} and its response read from stdin, the login as {"type":"authorize",...};
// tests drive a provider in-process this way without opening a port.
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import * as client from 'openid-client'
import { importJWK } from 'jose'

const { values: args } = parseArgs({
  options: {
    issuer: { type: 'string' },
    'client-id': { type: 'string' },
    keys: { type: 'string' },
    'redirect-uri': { type: 'string' },
    scope: { type: 'string', default: 'openid user.identity name email mobileno' },
    acr: { type: 'string', default: 'urn:singpass:authentication:loa:2' },
    mode: { type: 'string', default: 'flow' },
    callback: { type: 'string' },
    insecure: { type: 'boolean', default: false },
    stdio: { type: 'boolean', default: false },
  },
})
const MODES = ['flow', 'wrong-redirect', 'replay-code', 'replay-assertion', 'bad-dpop']
for (const required of ['issuer', 'client-id', 'keys', 'redirect-uri']) {
  if (!args[required]) fail(`--${required} is required`)
}
if (!MODES.includes(args.mode)) fail(`--mode must be one of ${MODES.join(', ')}`)

function fail(message) {
  console.error(`rp.mjs: ${message}`)
  process.exit(2)
}

// ---- transport: the network, or JSON lines on stdio -------------------------------------
const stdinLines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
async function readLine() {
  const { value, done } = await stdinLines.next()
  if (done) throw new Error('stdin closed')
  return value
}
async function exchange(message) {
  process.stdout.write(JSON.stringify(message) + '\n')
  return JSON.parse(await readLine())
}

async function stdioFetch(url, options) {
  const body = options.body == null ? undefined : String(options.body)
  const answer = await exchange({
    type: 'http',
    method: options.method,
    url: String(url),
    headers: Object.fromEntries(new Headers(options.headers).entries()),
    body,
  })
  return new Response(answer.body ?? null, { status: answer.status, headers: answer.headers })
}

// Every request goes through here, so the negative modes can tamper with exactly one request.
const seen = []
let tamper = null
async function fetchVia(url, options) {
  const request = {
    url: String(url),
    method: options.method,
    headers: { ...options.headers },
    body: options.body == null ? undefined : String(options.body),
  }
  if (tamper) tamper(request)
  seen.push(request)
  const transport = args.stdio ? stdioFetch : fetch
  return transport(request.url, { ...options, headers: request.headers, body: request.body })
}

async function login(authorizationUrl) {
  if (args.stdio) return (await exchange({ type: 'authorize', url: authorizationUrl })).callback
  console.error(`Open this URL, log in, then paste the final redirect URL:\n${authorizationUrl}`)
  return args.callback ?? (await readLine()).trim()
}

// ---- keys -----------------------------------------------------------------------------
const jwks = JSON.parse(readFileSync(args.keys, 'utf8'))
const sigJwk = jwks.keys.find((k) => k.use === 'sig')
const encJwk = jwks.keys.find((k) => k.use === 'enc')
if (!sigJwk?.d || !encJwk?.d) fail('--keys must hold private sig and enc keys')
const signingKey = { key: await importJWK(sigJwk, sigJwk.alg ?? 'ES256'), kid: sigJwk.kid }
const encAlg = encJwk.alg ?? 'ECDH-ES+A256KW'
const decryptionKey = { key: await importJWK(encJwk, encAlg), alg: encAlg, kid: encJwk.kid }

// ---- the flow -------------------------------------------------------------------------
function describeError(err) {
  return {
    name: err?.name,
    code: err?.code,
    status: err?.status ?? err?.cause?.status,
    error: err?.error ?? err?.cause?.error,
    error_description: err?.error_description ?? err?.cause?.error_description,
    message: err?.message,
  }
}

// An OAuth error body came back from the provider, or the library itself refused a response.
function failure(stage, err) {
  const described = describeError(err)
  const key = described.error ? 'provider_error' : 'rp_error'
  return { mode: args.mode, stage, ok: false, [key]: described }
}

function formOf(request) {
  return new URLSearchParams(request.body ?? '')
}

async function run() {
  const config = await client.discovery(
    new URL(args.issuer),
    args['client-id'],
    {
      id_token_signed_response_alg: 'ES256',
      id_token_encrypted_response_alg: encAlg,
      id_token_encrypted_response_enc: 'A256CBC-HS512',
      userinfo_signed_response_alg: 'ES256',
      userinfo_encrypted_response_alg: encAlg,
      userinfo_encrypted_response_enc: 'A256CBC-HS512',
    },
    client.PrivateKeyJwt(signingKey),
    {
      [client.customFetch]: fetchVia,
      execute: args.insecure || args.stdio ? [client.allowInsecureRequests] : [],
    },
  )
  config[client.customFetch] = fetchVia
  client.enableDecryptingResponses(config, ['A256CBC-HS512'], decryptionKey)
  // Verify the inner JWS signatures against the provider's JWKS, not only TLS.
  client.enableNonRepudiationChecks(config)
  const server = config.serverMetadata()

  const dpopKeys = await client.randomDPoPKeyPair('ES256')
  const dpop = client.getDPoPHandle(config, dpopKeys)
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const parameters = {
    redirect_uri:
      args.mode === 'wrong-redirect' ? args['redirect-uri'] + '/../evil' : args['redirect-uri'],
    scope: args.scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    acr_values: args.acr,
  }

  let authorizationUrl
  try {
    authorizationUrl = await client.buildAuthorizationUrlWithPAR(config, parameters, { DPoP: dpop })
  } catch (err) {
    return failure('par', err)
  }
  if (args.mode === 'wrong-redirect') {
    return { mode: args.mode, stage: 'par', ok: true, unexpected: 'PAR accepted a wrong redirect_uri' }
  }
  const parRequest = seen.at(-1)

  const callback = new URL(await login(authorizationUrl.href))
  const checks = { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }

  if (args.mode === 'replay-assertion') {
    // Send the PAR request's client assertion again at the token endpoint.
    const replayed = formOf(parRequest).get('client_assertion')
    tamper = (request) => {
      if (request.url !== server.token_endpoint) return
      const form = formOf(request)
      form.set('client_assertion', replayed)
      request.body = form.toString()
    }
  } else if (args.mode === 'bad-dpop') {
    // Reuse the PAR request's DPoP proof at the token endpoint: wrong htu and a replayed jti.
    const staleProof = parRequest.headers.dpop ?? parRequest.headers.DPoP
    tamper = (request) => {
      if (request.url === server.token_endpoint) request.headers.dpop = staleProof
    }
  }

  let tokens
  try {
    tokens = await client.authorizationCodeGrant(config, callback, checks, undefined, { DPoP: dpop })
  } catch (err) {
    return failure('token', err)
  }
  tamper = null
  if (args.mode === 'replay-assertion' || args.mode === 'bad-dpop') {
    return { mode: args.mode, stage: 'token', ok: true, unexpected: 'token request accepted' }
  }
  if (args.mode === 'replay-code') {
    try {
      await client.authorizationCodeGrant(config, callback, checks, undefined, { DPoP: dpop })
    } catch (err) {
      return failure('token', err)
    }
    return { mode: args.mode, stage: 'token', ok: true, unexpected: 'code redeemed twice' }
  }

  const claims = tokens.claims()
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub, { DPoP: dpop })
  const innerIdToken = client.getDecryptedResponses(tokens)?.id_token?.token_endpoint
  return {
    mode: args.mode,
    ok: true,
    issuer: server.issuer,
    authorization_url: authorizationUrl.href,
    token_type: tokens.token_type,
    expires_in: tokens.expires_in,
    id_token_header: innerIdToken ? JSON.parse(Buffer.from(innerIdToken.split('.')[0], 'base64url')) : null,
    id_token_claims: claims,
    userinfo,
    dpop_jkt: await dpop.calculateThumbprint(),
  }
}

const result = await run().catch((err) => ({ mode: args.mode, ok: false, harness_error: describeError(err) }))
const line = JSON.stringify(args.stdio ? { type: 'result', ...result } : result)
process.stdout.write(line + '\n')
process.exit(0)
