// Wraps (and optionally obfuscates and signs) documents with @govtechsg/open-attestation.
// stdin: {"documents": [...], "obfuscate": ["a.b", ...]?, "sign": {"privateKey", "publicKey"}?}
// stdout: the resulting documents as a JSON array.
import { wrapDocuments, obfuscate, signDocument, SUPPORTED_SIGNING_ALGORITHM } from "@govtechsg/open-attestation";
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
let documents = wrapDocuments(input.documents);
if (input.obfuscate && input.obfuscate.length) {
  documents = documents.map((document) => obfuscate(document, input.obfuscate));
}
if (input.sign) {
  documents = await Promise.all(
    documents.map((document) =>
      signDocument(document, SUPPORTED_SIGNING_ALGORITHM.Secp256k1VerificationKey2018, {
        private: input.sign.privateKey,
        public: input.sign.publicKey,
      })
    )
  );
}
process.stdout.write(JSON.stringify(documents));
