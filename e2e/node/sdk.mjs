// Drives edgepix with the official Cloudinary Node SDK. Started by
// e2e/node_sdk_test.go with CLOUDINARY_URL (upload_prefix = the origin),
// EDGE_HOST and FIXTURES set; prints one line per check and exits 1 on the
// first failure.
import { v2 as cloudinary } from "cloudinary";
import http from "node:http";
import path from "node:path";
import fs from "node:fs";

const edge = process.env.EDGE_HOST;
const fixture = (name) => path.join(process.env.FIXTURES, name);
const urlOpts = { secure: false, cname: edge };

function check(ok, what, detail) {
  if (!ok) {
    console.error(`FAIL ${what}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    process.exit(1);
  }
  console.log(`ok   ${what}`);
}

// pngSize reads width and height from a PNG's IHDR.
function pngSize(buf) {
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

async function get(url) {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get("content-type"), cache: r.headers.get("x-cache"),
    error: r.headers.get("x-cld-error"), body: Buffer.from(await r.arrayBuffer()) };
}

// A webhook receiver that verifies with the SDK's own helper.
const hooks = [];
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const ts = req.headers["x-cld-timestamp"];
    const ok = cloudinary.utils.verifyNotificationSignature(body, ts, req.headers["x-cld-signature"]);
    hooks.push({ ok, body: JSON.parse(body) });
    res.end("ok");
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const hookURL = `http://127.0.0.1:${server.address().port}/hook`;

// Upload with tags, context, eager and a notification.
const up = await cloudinary.uploader.upload(fixture("photo-snake-600x450-grayscale.jpg"), {
  public_id: "node/snake", tags: ["node", "sdk"], context: { alt: "a snake", credit: "node" },
  eager: [{ width: 100, height: 100, crop: "fill" }, { width: 50, crop: "scale", format: "png" }],
  notification_url: hookURL,
});
check(up.public_id === "node/snake" && up.width === 600 && up.height === 450 && up.format === "jpg",
  "upload result", up);
check(up.tags.join() === "node,sdk" && up.context?.custom?.alt === "a snake", "tags and context", up);
check(up.eager?.length === 2 && up.eager[0].width === 100 && up.eager[1].format === "png", "sync eager", up.eager);
check(cloudinary.utils.verify_api_response_signature(up.public_id, up.version, up.signature),
  "response signature verifies", up.signature);

// Delivery URLs built by the SDK, fetched from the edge.
const fill = cloudinary.url("node/snake", { ...urlOpts, width: 150, height: 100, crop: "fill", format: "png" });
let r = await get(fill);
check(r.status === 200 && r.type === "image/png", "delivery " + fill, r.error);
check(pngSize(r.body).join("x") === "150x100", "delivered size", pngSize(r.body));
r = await get(fill);
check(r.cache === "HIT", "second fetch is a HIT", r.cache);
const signed = cloudinary.url("node/snake.jpg", { ...urlOpts, sign_url: true, transformation: [{ width: 80, crop: "scale" }] });
r = await get(signed);
check(r.status === 200 && r.type === "image/jpeg", "signed URL " + signed, r.error);
r = await get(signed.replace("w_80", "w_81"));
check(r.status === 401, "tampered signed URL refused", r.status);

// Chunked upload (upload_large) with a small chunk size.
const big = await new Promise((resolve, reject) =>
  cloudinary.uploader.upload_large(fixture("photo-storm-1920x1280.jpg"), { public_id: "node/storm", resource_type: "image", chunk_size: 150000 },
    (err, res) => (err ? reject(err) : resolve(res))));
check(big.width === 1920 && big.bytes === fs.statSync(fixture("photo-storm-1920x1280.jpg")).size, "upload_large", big);

// Admin API: listing with a cursor, one asset, tags.
let page = await cloudinary.api.resources({ type: "upload", prefix: "node/", max_results: 1 });
check(page.resources.length === 1 && page.next_cursor, "listing page 1", page);
page = await cloudinary.api.resources({ type: "upload", prefix: "node/", max_results: 1, next_cursor: page.next_cursor });
check(page.resources.length === 1 && !page.next_cursor, "listing page 2", page);
await cloudinary.uploader.add_tag("extra", ["node/storm"]);
const byTag = await cloudinary.api.resources_by_tag("extra");
check(byTag.resources.length === 1 && byTag.resources[0].public_id === "node/storm", "resources_by_tag", byTag);
const one = await cloudinary.api.resource("node/snake");
check(one.width === 600 && one.tags.includes("node"), "api.resource", one);

// Named transformation, then t_ in a URL.
await cloudinary.api.create_transformation("nodethumb", { width: 40, height: 30, crop: "fill" });
r = await get(cloudinary.url("node/snake", { ...urlOpts, transformation: "nodethumb", format: "png" }));
check(r.status === 200 && pngSize(r.body).join("x") === "40x30", "named transformation", r.error);

// Sprite and multi from a tag (the Node SDK sends the format as f_).
const sp = await cloudinary.uploader.generate_sprite("sdk", { transformation: { width: 30, crop: "scale" } });
check(sp.image_infos?.["node/snake"]?.width === 30 && sp.css_url.endsWith("/sdk.css"), "generate_sprite", sp);
r = await get(sp.image_url);
check(r.status === 200 && pngSize(r.body).join("x") === "30x23", "sprite image", r.error);
const mu = await cloudinary.uploader.multi("sdk", { transformation: { width: 20, crop: "scale" }, format: "gif" });
check(mu.url?.endsWith("/sdk.gif"), "multi", mu);
r = await get(mu.url);
check(r.status === 200 && r.body.subarray(0, 3).toString() === "GIF", "multi GIF", r.error);

// explicit with eager_async and a notification; rename; destroy.
const ex = await cloudinary.uploader.explicit("node/snake", { type: "upload", eager: [{ width: 64, crop: "scale" }],
  eager_async: true, eager_notification_url: hookURL });
check(ex.eager?.[0]?.batch_id, "explicit eager_async", ex);
const rn = await cloudinary.uploader.rename("node/storm", "node/storm2");
check(rn.public_id === "node/storm2", "rename", rn);
const ds = await cloudinary.uploader.destroy("node/storm2");
check(ds.result === "ok", "destroy", ds);

// Notifications: the upload one and the eager one, both verified.
for (let i = 0; i < 100 && hooks.length < 2; i++) await new Promise((r) => setTimeout(r, 100));
const types = hooks.map((h) => h.body.notification_type).sort().join();
check(types === "eager,upload" && hooks.every((h) => h.ok), "notifications verified by the SDK", hooks);

// An unsigned upload through an unsigned preset, as a browser would.
await cloudinary.api.create_upload_preset({ name: "nodebrowser", unsigned: true, folder: "nb", tags: "web" });
const un = await cloudinary.uploader.unsigned_upload(fixture("exif-orient1-synthetic-50x70.jpg"), "nodebrowser");
check(un.public_id.startsWith("nb/") && un.tags.includes("web"), "unsigned_upload with a preset", un);

// Errors come back as the SDK expects them.
try {
  await cloudinary.uploader.upload(fixture("bad-truncated-real-100x100.jpg"), { public_id: "node/bad" });
  check(false, "a broken image was accepted", "");
} catch (e) {
  check(e.http_code === 400 && /Invalid image/.test(e.message), "broken image refused", e);
}
server.close();
console.log("all Node SDK checks passed");
