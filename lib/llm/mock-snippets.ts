import type { CodeLanguage, MockTopic } from "./mock-topic";

// Short, plausible code for a mock reply, named after the question's topic: `{camel}`,
// `{pascal}`, `{snake}`, `{kebab}` and `{phrase}` are filled in from it.

const SNIPPETS: Record<CodeLanguage, readonly string[]> = {
  ts: [
    `export async function load{pascal}(limit = 20): Promise<{pascal}[]> {
  const query = new URLSearchParams({ limit: String(limit) });
  const response = await fetch("/api/{kebab}?" + query.toString());
  if (!response.ok) throw new Error("Could not load {phrase}: " + response.status);
  return (await response.json()) as {pascal}[];
}`,
    `interface RetryOptions {
  retries: number;
  delayMs: number;
}

export async function with{pascal}Retries<T>(task: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      if (attempt > options.retries) throw error;
      await new Promise((resolve) => setTimeout(resolve, options.delayMs * attempt));
    }
  }
}`,
    `const {camel}Cache = new Map<string, number>();

export function remember{pascal}(key: string, compute: () => number): number {
  const cached = {camel}Cache.get(key);
  if (cached !== undefined) return cached;
  const value = compute();
  {camel}Cache.set(key, value);
  return value;
}`,
  ],
  python: [
    `from dataclasses import dataclass


@dataclass
class {pascal}:
    name: str
    count: int = 0


def summarize_{snake}(items: list[{pascal}]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in items:
        totals[item.name] = totals.get(item.name, 0) + item.count
    return totals`,
    `import time


def retry_{snake}(task, attempts=3, delay=0.5):
    for attempt in range(1, attempts + 1):
        try:
            return task()
        except Exception:
            if attempt == attempts:
                raise
            time.sleep(delay * attempt)`,
    `import csv


def read_{snake}(path):
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row for row in rows if row.get("{snake}")]`,
  ],
  sql: [
    `SELECT id, name, created_at
FROM {snake}
WHERE created_at < $1
ORDER BY created_at DESC
LIMIT 20;`,
    `CREATE TABLE {snake} (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX {snake}_created_at_idx ON {snake} (created_at DESC);`,
    `WITH recent AS (
  SELECT user_id, count(*) AS total
  FROM {snake}
  WHERE created_at > now() - interval '7 days'
  GROUP BY user_id
)
SELECT user_id, total
FROM recent
ORDER BY total DESC;`,
  ],
  bash: [
    `#!/usr/bin/env bash
set -euo pipefail

for file in ./{kebab}/*.log; do
  echo "Checking $file"
  grep -c "ERROR" "$file" || true
done`,
    `mkdir -p ./{kebab}
cd ./{kebab}
git init
git add .
git commit -m "Start {phrase}"`,
    `curl -s "http://localhost:3000/api/{kebab}" \\
  -H "Accept: application/json" | jq '.'`,
  ],
};

/** Every snippet for `topic`, filled in, as fenced Markdown blocks tagged with the language. */
export function codeBlocksFor(topic: MockTopic): string[] {
  return SNIPPETS[topic.language].map((snippet) => {
    const code = snippet
      .replaceAll("{camel}", topic.camel)
      .replaceAll("{pascal}", topic.pascal)
      .replaceAll("{snake}", topic.snake)
      .replaceAll("{kebab}", topic.kebab)
      .replaceAll("{phrase}", topic.phrase);
    return `\`\`\`${topic.language}\n${code}\n\`\`\``;
  });
}
