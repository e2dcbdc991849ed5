import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Pin the project root: Next otherwise guesses it from the nearest lockfile up the tree.
  turbopack: { root: import.meta.dirname },
  // `next dev` would otherwise write an AGENTS.md into the example.
  agentRules: false,
  experimental: { agentUpgrade: false },
};

export default nextConfig;
