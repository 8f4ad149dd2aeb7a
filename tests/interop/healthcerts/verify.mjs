// Verifies documents offline with @govtechsg/oa-verify: DNS answers come from a JSON table,
// did:ethr resolves to its default DID document, and Ethereum RPC / OCSP are unreachable.
// stdin: {"documents": [...], "dnsRecords": {"domain": ["txt", ...]}}
// stdout: [{"fragments": [{name, type, status, reason?}], "isValid": bool, "verifySignature": bool}]
import {
  verificationBuilder,
  openAttestationVerifiers,
  openAttestationDidIdentityProof,
  isValid,
} from "@govtechsg/oa-verify";
import { verifySignature } from "@govtechsg/open-attestation";
import { Resolver } from "did-resolver";
import { providers } from "ethers";
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
const table = input.dnsRecords || {};

const tableDnsResolver = async (domain) => ({
  AD: false,
  Answer: (table[domain] || []).map((data) => ({ name: domain, type: 16, TTL: 300, data })),
});

// Default ERC-1056 document: no registry changes are knowable offline.
const ethrDefaultDocument = {
  ethr: async (did, parsed) => {
    const match = /^(?:(mainnet|0x1):)?(0x[0-9a-fA-F]{40})$/.exec(parsed.id);
    if (!match) return { didResolutionMetadata: { error: "notFound" }, didDocument: null, didDocumentMetadata: {} };
    return {
      didResolutionMetadata: {},
      didDocumentMetadata: {},
      didDocument: {
        id: did,
        verificationMethod: [
          {
            id: `${did}#controller`,
            type: "EcdsaSecp256k1RecoveryMethod2020",
            controller: did,
            blockchainAccountId: `eip155:1:${match[2]}`,
          },
        ],
      },
    };
  },
};

const provider = new providers.StaticJsonRpcProvider({ url: "http://127.0.0.1:9", throttleLimit: 1 }, "homestead");
const verify = verificationBuilder([...openAttestationVerifiers, openAttestationDidIdentityProof], {
  provider,
  resolver: new Resolver(ethrDefaultDocument),
  dnsResolvers: [tableDnsResolver],
});

const results = [];
for (const document of input.documents) {
  const fragments = await verify(document);
  let signatureOk = false;
  try {
    signatureOk = verifySignature(document);
  } catch {
    signatureOk = false;
  }
  results.push({
    fragments: fragments.map(({ name, type, status, reason }) =>
      reason ? { name, type, status, reason: { code: reason.code, codeString: reason.codeString, message: reason.message } } : { name, type, status }
    ),
    isValid: isValid(fragments),
    verifySignature: signatureOk,
  });
}
process.stdout.write(JSON.stringify(results));
