// Reads samples out of Prometheus text: `sample(text, 'name{label="v"}')` is the value of that
// exact series (labels as the registry writes them, in its order), undefined when it is absent.
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

export async function scrape(url: string, token?: string): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, text: await response.text() };
}
