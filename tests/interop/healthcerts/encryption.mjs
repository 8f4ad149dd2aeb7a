// @govtechsg/oa-encryption round trips.
// stdin: {"encrypt": {"text", "key"?}} or {"decrypt": {cipherText, iv, tag, key, type}}
import { encryptString, decryptString } from "@govtechsg/oa-encryption";
import { readFileSync } from "node:fs";

const input = JSON.parse(readFileSync(0, "utf8"));
if (input.encrypt) {
  process.stdout.write(JSON.stringify(encryptString(input.encrypt.text, input.encrypt.key)));
} else {
  process.stdout.write(JSON.stringify({ text: decryptString(input.decrypt) }));
}
