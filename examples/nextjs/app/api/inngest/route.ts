import { serve } from "inngest/next";
import { inngest } from "@/inngest/client";
import { functions } from "@/inngest/functions";

// Mainspring calls this route (PUT to sync, POST to run a step). Register it with
// `mainspring dev -u http://127.0.0.1:3000/api/inngest`.
export const { GET, POST, PUT } = serve({ client: inngest, functions });
