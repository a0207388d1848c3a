// The Worker: a Hono app that classifies images with the shared forward pass.
import { Hono } from "hono";

const app = new Hono();

app.get("/health", (c) => c.json({ status: "ok" }));

export default app;
