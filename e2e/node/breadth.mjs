// Builds issue 13's URLs with the official Cloudinary Node SDK (client
// hints, several flags in one component) and delivers them from edgepix.
// Started by e2e/breadth_test.go with CLOUDINARY_URL, EDGE_HOST and
// FIXTURES; prints one line per check and exits 1 on the first failure.
import { v2 as cloudinary } from "cloudinary";
import path from "node:path";

const edge = process.env.EDGE_HOST;
const urlOpts = { secure: false, cname: edge };

function check(ok, what, detail) {
  if (!ok) {
    console.error(`FAIL ${what}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
    process.exit(1);
  }
  console.log(`ok   ${what}`);
}

// pngWidth reads the width from a PNG's IHDR.
const pngWidth = (buf) => buf.readUInt32BE(16);

async function get(url, headers = {}) {
  const r = await fetch(url, { headers });
  return { status: r.status, vary: r.headers.get("vary") || "", acceptCH: r.headers.get("accept-ch") || "",
    error: r.headers.get("x-cld-error"), body: Buffer.from(await r.arrayBuffer()) };
}

await cloudinary.uploader.upload(path.join(process.env.FIXTURES, "photo-storm-1920x1280.jpg"), { public_id: "node/storm" });
await cloudinary.uploader.upload(path.join(process.env.FIXTURES, "interlaced-palette-trns-toucan-162x150.png"), { public_id: "node/toucan" });

const dprURL = cloudinary.url("node/storm", { ...urlOpts, crop: "scale", width: 200, dpr: "auto", format: "png" });
check(dprURL.includes("dpr_auto"), "SDK emits dpr_auto", dprURL);
for (const [hdr, want] of [[{}, 200], [{ "Sec-CH-DPR": "2" }, 400], [{ DPR: "3" }, 600]]) {
  const r = await get(dprURL, hdr);
  check(r.status === 200 && pngWidth(r.body) === want, `dpr_auto with ${JSON.stringify(hdr)} is ${want} px`, r.error || pngWidth(r.body));
  check(r.vary.includes("Sec-CH-DPR") && r.acceptCH.includes("Sec-CH-DPR"), "Vary and Accept-CH name the DPR hints", r.vary);
}

const autoURL = cloudinary.url("node/storm", { ...urlOpts, crop: "scale", width: "auto:100:400", format: "png" });
check(autoURL.includes("w_auto:100:400"), "SDK emits w_auto:100:400", autoURL);
for (const [hdr, want] of [[{}, 400], [{ "Sec-CH-Width": "730" }, 800], [{ "Sec-CH-Viewport-Width": "512" }, 600]]) {
  const r = await get(autoURL, hdr);
  check(r.status === 200 && pngWidth(r.body) === want, `w_auto with ${JSON.stringify(hdr)} is ${want} px`, r.error || pngWidth(r.body));
}

// Two flags in one component: the SDK's array form (joined with '.') and
// a raw transformation with fl_ twice give the same image.
const arrayURL = cloudinary.url("node/storm", { ...urlOpts, format: "png", transformation: [
  { crop: "scale", width: 100 }, { overlay: "node:toucan" }, { crop: "scale", width: 300 },
  { flags: ["layer_apply", "no_overflow"], gravity: "north_west" }] });
check(arrayURL.includes("fl_layer_apply.no_overflow"), "SDK joins flags with '.'", arrayURL);
const rawURL = cloudinary.url("node/storm", { ...urlOpts, format: "png",
  raw_transformation: "c_scale,w_100/l_node:toucan/c_scale,w_300/fl_layer_apply,fl_no_overflow,g_north_west" });
const [a, b] = [await get(arrayURL), await get(rawURL)];
check(a.status === 200 && b.status === 200, "both spellings deliver", [a.error, b.error]);
check(pngWidth(a.body) === 100 && a.body.equals(b.body), "both spellings give the same 100 px image", [pngWidth(a.body), pngWidth(b.body)]);

// Expressions as the SDK normalises them: operators and long names in
// every numeric parameter, variables, conditions (after a colon the SDK
// leaves the long name: e_brightness:initial_width_div_96).
const exprURL = cloudinary.url("node/storm", { ...urlOpts, format: "png", transformation: [
  { variables: [["$w", "initial_width / 16"], ["$turn", "90"]] },
  { if: "width > 1000", crop: "scale", width: "$w", effect: "brightness:initial_width / 96", opacity: "$w / 2", angle: "$turn" }] });
check(exprURL.includes("$w_iw_div_16") && exprURL.includes("e_brightness:initial_width_div_96") && exprURL.includes("o_$w_div_2") &&
  exprURL.includes("if_w_gt_1000"), "SDK normalises expressions", exprURL);
const e = await get(exprURL);
check(e.status === 200 && pngWidth(e.body) === 80, "expressions in w, e, o and a render (120 px, turned 90°)", e.error || pngWidth(e.body));
const bpURL = cloudinary.url("node/storm", { ...urlOpts, crop: "scale", width: "auto:breakpoints:json" });
const bp = await get(bpURL);
const list = bp.status === 200 ? JSON.parse(bp.body.toString()).breakpoints : [];
check(list.length >= 2 && list[0] === 50 && list[list.length - 1] === 1000, "w_auto:breakpoints:json lists breakpoints by file size", bp.error || list);
