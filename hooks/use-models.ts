"use client";

import { useEffect, useState } from "react";

export interface ModelChoice {
  id: string;
  label: string;
}

/** The models this deployment serves (GET /api/models), the default first; none until known (or offline). */
export function useModels(): ModelChoice[] {
  const [models, setModels] = useState<ModelChoice[]>([]);
  useEffect(() => {
    let live = true;
    fetch("/api/models", { cache: "no-store" })
      .then((response) => (response.ok ? (response.json() as Promise<{ models: ModelChoice[] }>) : { models: [] }))
      .then((body) => live && setModels(body.models ?? []))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, []);
  return models;
}
