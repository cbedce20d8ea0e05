// Drives the real @lmstudio/sdk against a server and prints what it got as one JSON line.
//
//   node exchange.mjs SDK_DIR BASE_URL MODEL_KEY STEP_MS
//
// SDK_DIR holds node_modules/@lmstudio/sdk (installed by tests/sdk/_node.py); BASE_URL is
// ws://127.0.0.1:PORT. The steps: list the downloaded models, list the loaded ones, get a
// handle on MODEL_KEY, respond(), then a streamed respond() read fragment by fragment.
//
// The SDK waits forever for an answer it never gets, and it drops (with a warning to the
// server) any message that fails its own validation: so every step has STEP_MS to finish, and
// a step that does not ends the script with {"error": "timeout", "step": NAME}. Any other
// failure ends it with {"error": MESSAGE, "step": NAME}. The exit is process.exit(), never a
// wait for the client's disposal, which hangs while a call is left open.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [sdkDir, baseUrl, modelKey, stepMsText] = process.argv.slice(2);
const stepMs = Number(stepMsText);
const require = createRequire(join(sdkDir, "package.json"));
const { LMStudioClient } = require("@lmstudio/sdk");
const sdkPackage = join(sdkDir, "node_modules", "@lmstudio", "sdk", "package.json");
const out = { sdk: JSON.parse(readFileSync(sdkPackage, "utf8")).version, steps: [] };

// The SDK's own log lines go to stderr: stdout carries only the result line.
const toStderr = (...parts) => console.error(...parts);
const logger = { info: toStderr, warn: toStderr, error: toStderr, debug: () => {} };

class StepTimeout extends Error {}

async function step(name, run) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new StepTimeout(name)), stepMs);
  });
  try {
    const value = await Promise.race([run(), late]);
    out.steps.push(name);
    return value;
  } catch (error) {
    error.step = name;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function finish(code, extra) {
  process.stdout.write(JSON.stringify({ ...out, ...extra }) + "\n", () => process.exit(code));
}

try {
  const client = new LMStudioClient({ baseUrl, logger });
  const downloaded = await step("listDownloadedModels", () =>
    client.system.listDownloadedModels(),
  );
  out.downloaded = downloaded.map((m) => ({ modelKey: m.modelKey, type: m.type }));
  const loaded = await step("listLoaded", () => client.llm.listLoaded());
  out.loaded = loaded.map((m) => m.identifier);
  const model = await step("model", () => client.llm.model(modelKey, { verbose: false }));
  out.model = model.identifier;
  const answer = await step("respond", () => model.respond("Say hello"));
  out.respond = { content: answer.content, stopReason: answer.stats.stopReason };
  out.stream = await step("respond-stream", async () => {
    const prediction = model.respond("Count to three");
    const fragments = [];
    for await (const fragment of prediction) {
      fragments.push(fragment.content);
    }
    const result = await prediction.result();
    return { fragments, content: result.content, stopReason: result.stats.stopReason };
  });
  finish(0, {});
} catch (error) {
  const timeout = error instanceof StepTimeout;
  finish(timeout ? 3 : 2, {
    error: timeout ? "timeout" : String(error && error.message ? error.message : error),
    step: error && error.step ? error.step : "start",
  });
}
