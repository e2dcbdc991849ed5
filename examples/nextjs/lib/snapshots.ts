import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { config } from "./config";

export type Snapshot = { url: string; hash: string; lines: string[]; takenAt: string };

// One JSON file per watched URL. A real app would use its database; a file keeps the example
// free of services.
function fileFor(url: string): string {
  const key = createHash("sha256").update(url).digest("hex").slice(0, 16);
  return path.join(config.snapshotDir, `${key}.json`);
}

export async function loadSnapshot(url: string): Promise<Snapshot | null> {
  try {
    return JSON.parse(await readFile(fileFor(url), "utf8")) as Snapshot;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

export async function saveSnapshot(snapshot: Snapshot): Promise<void> {
  await mkdir(config.snapshotDir, { recursive: true });
  await writeFile(fileFor(snapshot.url), JSON.stringify(snapshot));
}

export function hashOf(lines: string[]): string {
  return createHash("sha256").update(lines.join("\n")).digest("hex");
}
