/**
 * `POST /v1/tokens` and `/v1/tokens/verify` for a project API key with `tokens:write`, and
 * `POST /v1/projects/{project_id}/tokens` for a signed-in member trying a room from the dashboard,
 * with the same request, rules, metering and quota.
 */
import { createRoute } from "@hono/zod-openapi";
import { currentApiKey, projectAccess } from "../auth/caller";
import { depsOf } from "../deps";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, quotaResponse } from "../lib/openapi";
import { createRouter } from "../router";
import { ProjectParams } from "../lib/params";
import { CreateTokenBody, serializeToken, TokenResponse, VerifyTokenBody, VerifyTokenResponse } from "./schemas";
import { auditActor } from "../audit/record";
import { issueMemberToken, issueToken, verifyToken } from "./service";

export const tokenRoutes = createRouter();

const tags = ["Tokens"];


tokenRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/tokens",
    tags,
    summary: "Mint a LiveKit access token for a participant of one of your rooms",
    security: bearerSecurity,
    request: { body: jsonBody(CreateTokenBody) },
    responses: { 201: jsonContent(TokenResponse, "Minted"), ...quotaResponse, ...errorResponses },
  }),
  async (c) => {
    return c.json(serializeToken(await issueToken(depsOf(c), currentApiKey(c), c.req.valid("json"))), 201);
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
    return c.json(await verifyToken(depsOf(c), currentApiKey(c), c.req.valid("json").token), 200);
  },
);

tokenRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/projects/{project_id}/tokens",
    tags,
    summary: "Mint a LiveKit access token from the dashboard (member)",
    security: bearerSecurity,
    request: { params: ProjectParams, body: jsonBody(CreateTokenBody) },
    responses: { 201: jsonContent(TokenResponse, "Minted"), ...quotaResponse, ...errorResponses },
  }),
  async (c) => {
    const access = await projectAccess(c, c.req.valid("param").project_id, "token:create");
    return c.json(serializeToken(await issueMemberToken(depsOf(c), access, auditActor(c), c.req.valid("json"))), 201);
  },
);
