import { depsOf } from "../deps";
import { createRoute } from "@hono/zod-openapi";
import { currentApiKey, requireApiKey } from "../api-keys/auth";
import { enforceQuota } from "../billing/quota";
import { bearerSecurity, createRouter, errorResponses, jsonBody, jsonContent } from "../lib/openapi";
import { issueToken } from "./issue";
import { CreateTokenBody, TokenResponse, VerifyTokenBody, VerifyTokenResponse } from "./schemas";
import { verifyParticipantToken } from "./verify";

export const tokenRoutes = createRouter();

const tags = ["Tokens"];

// Both routes need a key with `tokens:write`; requireApiKey also applies the per-project rate limit.
tokenRoutes.use("/v1/tokens", requireApiKey("tokens:write"));
tokenRoutes.use("/v1/tokens", enforceQuota("tokens_issued", "participant_minutes"));
tokenRoutes.use("/v1/tokens/verify", requireApiKey("tokens:write"));

tokenRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/tokens",
    tags,
    summary: "Mint a LiveKit access token for a participant of one of your rooms",
    security: bearerSecurity,
    request: { body: jsonBody(CreateTokenBody) },
    responses: { 201: jsonContent(TokenResponse, "Minted"), ...errorResponses },
  }),
  async (c) => {
    return c.json(await issueToken(depsOf(c), currentApiKey(c), c.req.valid("json")), 201);
  },
);

tokenRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/tokens/verify",
    tags,
    summary: "Check a token: valid for one of this project's rooms, or why not",
    security: bearerSecurity,
    request: { body: jsonBody(VerifyTokenBody) },
    responses: { 200: jsonContent(VerifyTokenResponse, "Verification result"), ...errorResponses },
  }),
  async (c) => {
    const { projectId } = currentApiKey(c);
    return c.json(await verifyParticipantToken(c.var.config.livekit, projectId, c.req.valid("json").token), 200);
  },
);
