// A worker thread for dev-vars.test.ts: waits at a shared barrier, then calls ensureDevSecrets on
// the file it was given, at the same moment as its siblings, and reports the token it got.
import { parentPort, workerData } from "node:worker_threads";
import { ensureDevSecrets } from "../../../cli/local/dev-vars.ts";

const { file, barrier } = workerData as { file: string; barrier: SharedArrayBuffer };
const gate = new Int32Array(barrier);
Atomics.add(gate, 1, 1); // one more thread ready
Atomics.wait(gate, 0, 0); // until the test opens the gate
parentPort!.postMessage(ensureDevSecrets({}, file).OPERATOR_TOKEN);
