import { Inngest } from "inngest";

// INNGEST_DEV=1 talks to a local server without signing keys; INNGEST_BASE_URL points the SDK
// at Mainspring (http://127.0.0.1:8288 by default for `mainspring dev`).
export const inngest = new Inngest({ id: "nextjs-example" });
