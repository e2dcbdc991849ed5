// The core benchmark's 3-step function as a Restate service (TS SDK), for bench/peers/restate.py.
// Run from the temporary folder the driver installs the Restate packages into:
//   node restate_service.cjs <service port> <bench port>
// The handler stamps its first attempt and its end (after the third step's journal entry was
// acknowledged) in the shared RunRecorder, the equivalent of a Mainspring run's first and final
// SDK call.
"use strict";

// The SDK calls Promise.withResolvers (Node >= 22); this machine's Node 20 lacks it.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const restate = require("@restatedev/restate-sdk");
const { RunRecorder } = require("./recorder.cjs");

const recorder = new RunRecorder();
const [servicePort, benchPort] = process.argv.slice(2).map(Number);

const chain = restate.service({
  name: "chain",
  handlers: {
    run: async (ctx, input) => {
      const arrived = Date.now() / 1000;
      const rec = recorder.call(ctx.request().id, arrived, input);
      const a = await ctx.run("one", async () => 2);
      const b = await ctx.run("two", async () => a * 10);
      const c = await ctx.run("three", async () => ({ total: a + b + 3 }));
      recorder.final(rec, Date.now() / 1000);
      return c;
    },
  },
});

recorder.listen(benchPort).then(() => restate.endpoint().bind(chain).listen(servicePort));
