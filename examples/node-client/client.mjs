// A Node client of the fake (Node 18+, no packages): script it through the admin API, call it
// as LM Studio, ask it what it received. docs/cli.md shows this file; a test keeps them equal.
const base = process.env.LMSTUDIO_ENDPOINT ?? "http://127.0.0.1:1234";

async function post(path, body) {
  const response = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

await post("/__fake__/scenario", {
  rules: [{ route: "chat", times: 1, reply: { content: "Hello from the fake." } }],
});
const answer = await post("/v1/chat/completions", {
  model: "qwen/qwen3-8b",
  messages: [{ role: "user", content: "Hi" }],
});
console.log(answer.json.choices[0].message.content); // Hello from the fake.
const journal = await (await fetch(base + "/__fake__/requests")).json();
console.log(journal.requests.length, "request(s)");
