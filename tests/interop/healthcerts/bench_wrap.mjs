// Times @govtechsg/open-attestation wrapDocuments and verifySignature on copies of one raw
// document. Input on stdin: {"document": {...}, "wrapCounts": [..], "verifyCount": n}.
// Output on stdout: {"wrap": {"<n>": seconds}, "verify": {"<n>": seconds}, "wrapCpu": {..},
// "verifyCpu": {..}} (CPU seconds of this process, JIT and GC threads included).
import { wrapDocuments, verifySignature } from "@govtechsg/open-attestation";
import { readFileSync } from "node:fs";

const cpuSeconds = (since) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
};
const input = JSON.parse(readFileSync(0, "utf8"));
const result = { wrap: {}, verify: {}, wrapCpu: {}, verifyCpu: {} };
let largest = null;
for (const count of input.wrapCounts) {
  const documents = Array.from({ length: count }, () => structuredClone(input.document));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const wrapped = wrapDocuments(documents);
  result.wrap[count] = Number(process.hrtime.bigint() - start) / 1e9;
  result.wrapCpu[count] = cpuSeconds(cpu);
  if (!largest || count >= input.verifyCount) largest = wrapped;
}
if (input.verifyCount) {
  const sample = largest.slice(0, input.verifyCount);
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let ok = 0;
  for (const document of sample) if (verifySignature(document)) ok += 1;
  result.verify[sample.length] = Number(process.hrtime.bigint() - start) / 1e9;
  result.verifyCpu[sample.length] = cpuSeconds(cpu);
  result.verifiedOk = ok;
}
process.stdout.write(JSON.stringify(result));
