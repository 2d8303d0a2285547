import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/middleware/json-body";
import { BASE, call, dispatch, expectEnvelope } from "../support/api";
import { createTenant, createUser } from "../support/factories";

describe("malformed requests", () => {
  it("answers bad JSON with 400 invalid_json", async () => {
    const user = await createUser();
    for (const raw of ["{", '{"name": }', "not json", '{"name":"a"}}']) {
      const res = await call("POST", "/v1/orgs", { token: user.token, raw, headers: { "Content-Type": "application/json" } });
      expectEnvelope(res, 400, "invalid_json");
    }
  });

  it("answers a wrong field type with 400 validation_failed naming the field", async () => {
    const user = await createUser();
    const error = expectEnvelope(await call("POST", "/v1/orgs", { token: user.token, body: { name: 42 } }), 400, "validation_failed");
    expect(error.details).toEqual([expect.objectContaining({ path: "name" })]);
  });

  it("rejects unknown fields instead of ignoring them", async () => {
    const user = await createUser();
    const error = expectEnvelope(
      await call("POST", "/v1/orgs", { token: user.token, body: { name: "ok", plan: "enterprise" } }),
      400,
      "validation_failed",
    );
    expect(JSON.stringify(error.details)).toContain("plan");
  });

  it("refuses text with a lone surrogate by its path, and keeps escaped pairs byte for byte", async () => {
    const { user, key } = await createTenant();
    const json = { "Content-Type": "application/json" };
    for (const [path, raw, where] of [
      ["/v1/orgs", '{"name":"a\\ud800b"}', "name"],
      ["/v1/orgs", '{"name":"\\udfffb"}', "name"],
      ["/v1/tokens", '{"identity":"a","room":"r","attributes":{"k\\ud83d":"v"}}', "attributes.k\ud83d"],
    ] as const) {
      const res = await call("POST", path, { token: path === "/v1/tokens" ? key.secret : user.token, raw, headers: json });
      const error = expectEnvelope(res, 400, "validation_failed");
      expect(error.details).toEqual([{ path: where, message: expect.stringContaining("lone UTF-16 surrogate") }]);
    }
    const paired = await call("POST", "/v1/orgs", { token: user.token, raw: '{"name":"a\\ud83d\\ude00b \\u00e9"}', headers: json });
    expect(paired.status, paired.text).toBe(201);
    expect(paired.body.name).toBe("a\u{1F600}b \u00e9");
  });

  it("refuses a body with fields on an operation that takes none, and accepts none or {}", async () => {
    const { user, project, key } = await createTenant();
    const roll = `/v1/projects/${project.id}/keys/${key.id}/roll`;
    const refused = expectEnvelope(await call("POST", roll, { token: user.token, body: { expires_in: 60 } }), 400, "validation_failed");
    expect(refused.details).toEqual([{ path: "(root)", message: "this operation takes no request body" }]);
    expectEnvelope(await call("POST", roll, { token: user.token, raw: "[]", headers: { "Content-Type": "application/json" } }), 400, "validation_failed");
    // Nothing was rolled: the old secret still works.
    expect((await call("GET", "/v1/api-key", { token: key.secret })).status).toBe(200);
    expect((await call("POST", roll, { token: user.token, body: {} })).status).toBe(201);

    const logout = await call("POST", "/v1/auth/logout", { token: user.token, body: { everywhere: true } });
    expectEnvelope(logout, 400, "validation_failed");
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(200);
    expect((await call("POST", "/v1/auth/logout", { token: user.token })).status).toBe(204);
  });

  it("refuses a DELETE sent with fields instead of ignoring them, and deletes with none or {}", async () => {
    const { user, project, key } = await createTenant();
    const path = `/v1/projects/${project.id}/keys/${key.id}`;
    const refused = expectEnvelope(await call("DELETE", path, { token: user.token, body: { force: true } }), 400, "validation_failed");
    expect(refused.details).toEqual([{ path: "(root)", message: "this operation takes no request body" }]);
    expectEnvelope(await call("DELETE", path, { token: user.token, raw: "force", headers: { "Content-Type": "text/plain" } }), 415, "unsupported_media_type");
    expect((await call("GET", "/v1/api-key", { token: key.secret })).status).toBe(200);
    expect((await call("DELETE", path, { token: user.token, body: {} })).status).toBe(204);
    expectEnvelope(await call("GET", "/v1/api-key", { token: key.secret }), 401, "unauthenticated");
  });

  it("rejects a missing body on a route that needs one", async () => {
    const user = await createUser();
    expectEnvelope(await call("POST", "/v1/orgs", { token: user.token }), 400, "validation_failed");
  });

  it("answers an oversize body with 413, with or without Content-Length", async () => {
    const user = await createUser();
    const big = JSON.stringify({ name: "x".repeat(MAX_BODY_BYTES + 10) });
    expectEnvelope(await call("POST", "/v1/orgs", { token: user.token, raw: big, headers: { "Content-Type": "application/json" } }), 413, "payload_too_large");

    // A streamed body has no Content-Length; the limit still holds.
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES + chunk.length) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const res = await dispatch(
      new Request(`${BASE}/v1/orgs`, {
        method: "POST",
        body: stream,
        headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" },
        // @ts-expect-error workerd accepts duplex for streamed request bodies
        duplex: "half",
      }),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
  });

  it("refuses a JSON body that is not UTF-8 instead of storing U+FFFD, with or without Content-Length", async () => {
    const user = await createUser();
    const bytes = new Uint8Array([...new TextEncoder().encode('{"name":"caf'), 0xe9, ...new TextEncoder().encode('"}')]); // Latin-1 é
    for (const streamed of [false, true]) {
      const body = streamed
        ? new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(bytes);
              controller.close();
            },
          })
        : bytes;
      const res = await dispatch(
        new Request(`${BASE}/v1/orgs`, {
          method: "POST",
          body,
          headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" },
          // @ts-expect-error workerd accepts duplex for streamed request bodies
          duplex: "half",
        }),
      );
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_json");
    }
    expect((await call("GET", "/v1/orgs", { token: user.token })).body.data).toEqual([]);
    // The same text as UTF-8 is kept byte for byte.
    expect((await call("POST", "/v1/orgs", { token: user.token, body: { name: "café" } })).body.name).toBe("café");
  });

  it("answers a Content-Type its JSON parser will not take with 415, and takes an empty body where the body is optional", async () => {
    const { user, project } = await createTenant();
    for (const type of ["application/json;", "application/json ; charset=utf-8"]) {
      const res = await call("POST", `/v1/projects/${project.id}/livekit-keys`, { token: user.token, raw: '{"name":"sdk"}', headers: { "Content-Type": type } });
      expectEnvelope(res, 415, "unsupported_media_type");
    }
    const empty = await call("POST", `/v1/projects/${project.id}/livekit-keys`, { token: user.token, raw: "", headers: { "Content-Type": "application/json" } });
    expect(empty.status, empty.text).toBe(201);
    expect(empty.body.api_secret).toEqual(expect.any(String));
  });

  it("answers a non-JSON content type with 415", async () => {
    const user = await createUser();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await call("POST", "/v1/orgs", { token: user.token, raw: '{"name":"a"}', headers: { "Content-Type": type } });
      expectEnvelope(res, 415, "unsupported_media_type");
    }
    const missing = await call("POST", "/v1/orgs", { token: user.token, raw: '{"name":"a"}' });
    expectEnvelope(missing, 415, "unsupported_media_type");
  });

  it("answers an unknown route with the 404 envelope", async () => {
    const user = await createUser();
    for (const path of ["/nope", "/v1/nope", "/v1/orgs/org_x/nope/deeper"]) {
      expectEnvelope(await call("GET", path, { token: user.token }), 404, "not_found");
    }
    // Like Stripe, a protected prefix authenticates before it routes: no credentials, no map of the API.
    expectEnvelope(await call("GET", "/v1/orgs/org_x/nope/deeper"), 401, "unauthenticated");
  });

  it("answers a wrong method on a known path with 405 and Allow", async () => {
    const user = await createUser();
    const res = await call("PUT", "/v1/orgs", { token: user.token });
    expectEnvelope(res, 405, "method_not_allowed");
    expect(res.headers.get("Allow")).toContain("POST");
    expect(res.headers.get("Allow")).toContain("GET");
    const health = await call("DELETE", "/health");
    expectEnvelope(health, 405, "method_not_allowed");
  });

  it("answers bad list parameters with 400", async () => {
    const user = await createUser();
    for (const q of ["limit=0", "limit=101", "limit=abc", "cursor=%%%"]) {
      expectEnvelope(await call("GET", `/v1/orgs?${q}`, { token: user.token }), 400, "validation_failed");
    }
  });

  it("answers a forged cursor whose position is not a whole millisecond with 400, never a 500", async () => {
    const user = await createUser();
    const forge = (json: string) => btoa(json).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    for (const json of ['{"t":1e400,"id":"x"}', '{"t":-1e400,"id":"x"}', '{"t":1.5,"id":"x"}', '{"t":9007199254740993,"id":"x"}', '{"t":"1","id":"x"}']) {
      expectEnvelope(await call("GET", `/v1/orgs?cursor=${forge(json)}`, { token: user.token }), 400, "validation_failed");
    }
  });

  it("never answers 500 to hostile ids in paths", async () => {
    const { user } = await createTenant();
    for (const id of ["'; DROP TABLE projects; --", "%00", "proj_" + "a".repeat(60), "..%2F..%2Fetc", "{$where:1}"]) {
      const res = await call("GET", `/v1/projects/${encodeURIComponent(id)}`, { token: user.token });
      expect([400, 404]).toContain(res.status);
      expect(res.body.error.code).toMatch(/not_found|validation_failed/);
    }
  });

  it("echoes a sane X-Request-Id and replaces an unsafe one", async () => {
    const sane = await call("GET", "/v1/nope", { headers: { "X-Request-Id": "client-req-12345678" } });
    expect(sane.headers.get("X-Request-Id")).toBe("client-req-12345678");
    expect(sane.body.error.request_id).toBe("client-req-12345678");
    const unsafe = await call("GET", "/health", { headers: { "X-Request-Id": "<script>alert(1)</script>" } });
    expect(unsafe.headers.get("X-Request-Id")).toMatch(/^req_/);
  });
});
