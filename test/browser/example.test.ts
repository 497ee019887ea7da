/**
 * examples/browser starts with one command (`npm run example:browser`) and works: the page,
 * opened in headless Chromium, runs the calculator against the Node server over WebSocket and
 * against the Web Worker over MessagePort, with the results right.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromiumMissing, launchChromium, pageErrors } from "./chromium.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

test("npm run example:browser serves a page that runs the calculator in the browser", {
  skip: chromiumMissing(),
}, async () => {
  // Its own process group, so that npm and the node it starts are ended together.
  const child = spawn("npm", ["run", "--silent", "example:browser", "--", "0"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  try {
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /Open (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`example exited (${code}) before listening: ${out}`)));
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      await page.goto(url);
      await page.waitForFunction(
        () => (globalThis as unknown as { document: { title: string } }).document.title.startsWith("done:"),
        undefined,
        {
          timeout: 60_000,
        },
      );
      const log = (await page.textContent("#log")) ?? "";
      assert.equal(await page.title(), "done: ok", log);
      assert.match(log, /evaluate\(4\*6\) → evaluate\(previous\+3\), pipelined.*5 calls, 1 round trip\b/);
      assert.match(log, /Web Worker over MessagePort/);
      assert.match(log, /All results correct\./);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  } finally {
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  }
});
