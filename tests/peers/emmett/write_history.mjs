// Writes a realistic Emmett history into a PostgreSQL database through Emmett's own API, then
// reads it all back through Emmett's own API and prints that reading as JSON on stdout: the
// expected answer esaudit's Emmett adapter is compared against.
//
//   node write_history.mjs postgresql://USER@HOST:PORT/DBNAME [--seed N] [--more | --hold]
//
// With --more it writes no history of its own: it appends a few events to a store that holds one
// (a writer working while esaudit reads), then prints the same reading of everything.
// With --hold it commits two appends out of position order: the first (to product-456) draws its
// positions and waits before committing; a second append (a new cart) commits meanwhile, with
// higher positions. It prints one
// line of JSON naming both, waits for a line on stdin, commits the first, then prints the
// reading.
//
// Stream ids, payloads and most of the shape come from a seeded generator, so a seed gives the
// same history every time; message ids Emmett generates (uuid v4), created times and the global
// positions of the concurrent appends are Emmett's and PostgreSQL's own.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";

import { count, dumbo, sql } from "@event-driven-io/dumbo";
import { isExpectedVersionConflictError } from "@event-driven-io/emmett";
import {
  appendToStream as appendWithStreamType,
  getPostgreSQLEventStore,
  readMessagesBatch,
} from "@event-driven-io/emmett-postgresql";

const args = process.argv.slice(2);
const url = args.find((a) => !a.startsWith("--"));
const seedAt = args.indexOf("--seed");
const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : 20;
const more = args.includes("--more");
const hold = args.includes("--hold");
if (!url) {
  console.error("usage: node write_history.mjs POSTGRESQL_URL [--seed N]");
  process.exit(2);
}

// -- a small seeded generator --------------------------------------------------------------
let state = seed >>> 0 || 1;
const random = () => {
  // mulberry32
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (items) => items[int(0, items.length - 1)];
const uuid = () => {
  const hex = Array.from({ length: 32 }, () => int(0, 15).toString(16));
  hex[12] = "4";
  hex[16] = ((int(0, 15) & 0x3) | 0x8).toString(16);
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
};

const productNames = [
  "Crème brûlée set",
  "Ø 30 cm pan",
  "日本茶 (sencha) 100 g",
  "Ελληνικό μέλι",
  "Kaffee „Spezial“",
  "Coffee ☕ mug",
  "Plain white tee",
  "עגבניות שרי",
  "🚲 bell",
  "Zürich chocolate",
];
const users = ["ada@example.com", "łukasz@example.pl", "zoë@example.fr", "運営@example.jp"];

const metadataFor = (i) => {
  // Some events carry no metadata at all, some a rich one.
  if (i % 7 === 3) return undefined;
  return {
    correlationId: uuid(),
    causationId: i % 2 ? uuid() : null,
    userId: pick(users),
    tenant: { id: `tenant-${int(1, 3)}`, region: pick(["eu-west", "us-east", "ap-south"]) },
    source: i % 5 === 0 ? "import" : "web",
    retried: i % 11 === 0,
  };
};

const productItem = () => ({
  productId: `product-${pick([123, 456, 789, 1001])}`,
  quantity: int(1, 5),
  unitPrice: { amount: int(99, 25_000) / 100, currency: pick(["EUR", "USD", "JPY"]) },
  name: pick(productNames),
  tags: random() < 0.3 ? [] : ["gift", "fragile", "sale"].slice(0, int(1, 3)),
  note: random() < 0.5 ? null : "Leave at the door — thanks!",
});

// -- the history ---------------------------------------------------------------------------
const eventStore = getPostgreSQLEventStore(url);
const pool = dumbo({ connectionString: url });
const appends = [];
let eventNo = 0;

const append = async (streamId, events, options) => {
  const startedAt = new Date();
  const result = await eventStore.appendToStream(streamId, events, options);
  appends.push({
    stream_id: streamId,
    count: events.length,
    expected_stream_version:
      options?.expectedStreamVersion === undefined ? null : Number(options.expectedStreamVersion),
    next_expected_stream_version: Number(result.nextExpectedStreamVersion),
    last_global_position: Number(result.lastEventGlobalPosition),
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
  });
  return result;
};

const withMetadata = (event) => {
  const metadata = metadataFor(eventNo++);
  return metadata === undefined ? event : { ...event, metadata };
};

const cartIds = Array.from({ length: 12 }, () => `shopping_cart-${uuid()}`);
const productIds = ["product-123", "product-456", "product-789", "product-1001"];
const stayIds = Array.from({ length: 3 }, (_, i) => `guest_stay_account-${uuid()}-2026-0${i + 1}-15`);

const writeHistory = async () => {
  // Products: registered first, every later append checks the version it expects.
  const productVersions = new Map();
  for (const [i, productId] of productIds.entries()) {
    const result = await append(productId, [
      withMetadata({
        type: "ProductRegistered",
        data: {
          productId,
          name: productNames[i],
          price: { amount: int(99, 9_999) / 100, currency: "EUR" },
          dimensionsCm: { w: int(1, 80), h: int(1, 80), d: int(1, 80) },
          active: true,
          discontinuedAt: null,
          registeredAt: new Date(Date.UTC(2026, 0, 1 + i, 9, 30)),
        },
      }),
      withMetadata({ type: "StockAdjusted", data: { productId, delta: int(10, 100), reason: "initial" } }),
    ]);
    productVersions.set(productId, result.nextExpectedStreamVersion);
  }

  // Carts and stays, interleaved, several events per append.
  for (let round = 0; round < 6; round++) {
    for (const cartId of cartIds) {
      const events = Array.from({ length: int(1, 5) }, () =>
        withMetadata(
          random() < 0.75
            ? { type: "ProductItemAdded", data: { cartId, productItem: productItem() } }
            : {
                type: "ProductItemRemoved",
                data: { cartId, productItem: { productId: `product-${pick([123, 456])}`, quantity: -int(1, 2) } },
              },
        ),
      );
      if (round === 5) {
        events.push(
          withMetadata(
            random() < 0.7
              ? {
                  type: "ShoppingCartConfirmed",
                  data: { cartId, confirmedAt: new Date(Date.UTC(2026, 1, int(1, 28), int(0, 23))), total: int(0, 1_000_000) / 100 },
                }
              : { type: "ShoppingCartCancelled", data: { cartId, reason: pick(["timeout", "user", null]) } },
          ),
        );
      }
      await append(cartId, events);
    }
    for (const stayId of stayIds) {
      await append(stayId, [
        withMetadata({ type: "RoomCharged", data: { amount: int(5_000, 30_000) / 100, night: round + 1 } }),
        withMetadata({ type: "GuestCheckedIn", data: { guest: { name: pick(["Åsa", "Jürgen", "Nnamdi", "Siobhán"]), vip: random() < 0.2 } } }),
      ]);
    }
    for (const productId of productIds) {
      const expectedStreamVersion = productVersions.get(productId);
      const result = await append(
        productId,
        [
          withMetadata({
            type: "PriceChanged",
            data: { productId, price: { amount: int(99, 9_999) / 100, currency: "EUR" }, previous: null },
          }),
          withMetadata({ type: "StockAdjusted", data: { productId, delta: -int(0, 9), reason: "sale" } }),
        ],
        { expectedStreamVersion },
      );
      productVersions.set(productId, result.nextExpectedStreamVersion);
    }
  }

  // A writer with a stale version is refused and writes nothing.
  let conflict = null;
  try {
    await eventStore.appendToStream(
      "product-123",
      [{ type: "PriceChanged", data: { productId: "product-123", price: { amount: 0, currency: "EUR" } } }],
      { expectedStreamVersion: 1n },
    );
  } catch (error) {
    if (!isExpectedVersionConflictError(error)) throw error;
    conflict = { stream_id: "product-123", expected_stream_version: 1, error: error.constructor.name };
  }

  // Edge values in one stream, one event each.
  const edgeId = `shopping_cart-${uuid()}`;
  await append(edgeId, [
    { type: "ProductItemAdded", data: { cartId: edgeId, productItem: { productId: "product-123", quantity: 1 } } },
    {
      type: "EdgeValues",
      data: {
        zero: 0,
        negative: -42,
        float: 0.1,
        tiny: 5e-324,
        big: 9007199254740991,
        huge: 1e21,
        bigint: 12345678901234567890n,
        emptyString: "",
        emptyObject: {},
        emptyArray: [],
        nested: { a: { b: { c: { d: [1, [2, [3, { e: null }]]] } } } },
        booleans: [true, false],
        nothing: null,
        unicode: "naïve café — 日本語 — 🙂👍🏽 — עברית — e\u0301",
        escapes: 'quote " backslash \\ tab \t newline \n',
        "ключ с пробелом": "value",
        "": "empty key",
      },
      metadata: { messageId: `caller-chosen-${uuid()}`, note: "the caller chose this message id" },
    },
    { type: "ShoppingCartConfirmed", data: { cartId: edgeId, confirmedAt: new Date(Date.UTC(2026, 2, 1)), total: 1.5 } },
  ]);

  // A stream id without a '-': Emmett names no stream type for it (emt:unknown).
  await append("inventory", [
    withMetadata({ type: "InventoryCounted", data: { warehouse: "Lyon", items: 1204 } }),
    withMetadata({ type: "InventoryCounted", data: { warehouse: "Łódź", items: 88 } }),
  ]);

  // Concurrent appends to different streams: global positions and transaction ids interleave.
  await Promise.all(
    cartIds.slice(0, 8).map((cartId) =>
      append(cartId, [
        withMetadata({ type: "ProductItemAdded", data: { cartId, productItem: productItem() } }),
        withMetadata({ type: "ProductItemAdded", data: { cartId, productItem: productItem() } }),
      ]),
    ),
  );

  // A stream whose emt_streams row names its type: Emmett's own append with an explicit type.
  const typedIds = ["loyalty_card-42", "loyalty_card-43"];
  for (const typedId of typedIds) {
    const startedAt = new Date();
    const events = [
      withMetadata({ type: "LoyaltyCardIssued", data: { holder: pick(users), points: 0 } }),
      withMetadata({ type: "PointsEarned", data: { points: int(1, 500), reason: "purchase" } }),
      withMetadata({ type: "PointsEarned", data: { points: int(1, 500), reason: "promotion" } }),
    ];
    const result = await appendWithStreamType(pool, typedId, "LoyaltyCard", events, {});
    if (!result.success) throw new Error(`append to ${typedId} failed`);
    appends.push({
      stream_id: typedId,
      count: events.length,
      expected_stream_version: null,
      next_expected_stream_version: Number(result.nextStreamPosition),
      last_global_position: Number(result.globalPositions.at(-1)),
      stream_type: "LoyaltyCard",
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
    });
  }

  // One conversation across three streams, each message naming the one that caused it
  // (causationId = the cause's messageId) and all sharing one correlationId: what a trace
  // follows. The random metadata of the other messages links nothing.
  const correlationId = `checkout-${uuid()}`;
  const started = `msg-${uuid()}`;
  const reserved = `msg-${uuid()}`;
  await append(cartIds[0], [
    { type: "CheckoutStarted", data: { cartId: cartIds[0] },
      metadata: { messageId: started, correlationId, causationId: null, userId: users[0] } },
  ]);
  await append("product-123", [
    { type: "StockReserved", data: { productId: "product-123", quantity: 2 },
      metadata: { messageId: reserved, correlationId, causationId: started, userId: "stock-service" } },
  ]);
  await append(cartIds[1], [
    { type: "ReceiptSent", data: { cartId: cartIds[1], to: users[2] },
      metadata: { messageId: `msg-${uuid()}`, correlationId, causationId: reserved } },
  ]);

  return conflict;
};

const writeMore = async () => {
  await append("product-123", [
    withMetadata({ type: "StockAdjusted", data: { productId: "product-123", delta: -1, reason: "late sale" } }),
  ]);
  const cartId = `shopping_cart-${randomUUID()}`;
  await append(cartId, [
    withMetadata({ type: "ProductItemAdded", data: { cartId, productItem: productItem() } }),
    withMetadata({ type: "ShoppingCartConfirmed", data: { cartId, confirmedAt: new Date(), total: 12.5 } }),
  ]);
};

const lineFromStdin = () =>
  new Promise((resolve) => {
    const done = () => {
      process.stdin.pause();
      resolve();
    };
    process.stdin.once("data", done);
    process.stdin.once("end", done);
  });

const commitOutOfOrder = async () => {
  const early = "product-456";
  const late = `shopping_cart-${randomUUID()}`;
  let drawn;
  const positionsDrawn = new Promise((resolve) => (drawn = resolve));
  const mayCommit = lineFromStdin();
  const heldAppend = appendWithStreamType(
    pool,
    early,
    "product",
    [
      withMetadata({ type: "StockAdjusted", data: { productId: early, delta: -2, reason: "held" } }),
      withMetadata({ type: "StockAdjusted", data: { productId: early, delta: 5, reason: "held" } }),
    ],
    {
      beforeCommitHook: async (messages) => {
        drawn(messages.map((m) => Number(m.metadata.globalPosition)));
        await mayCommit;
      },
    },
  );
  const heldPositions = await positionsDrawn;
  const committed = await append(late, [
    withMetadata({ type: "ProductItemAdded", data: { cartId: late, productItem: productItem() } }),
  ]);
  process.stdout.write(
    JSON.stringify({
      held: { stream_id: early, global_positions: heldPositions },
      committed: { stream_id: late, last_global_position: Number(committed.lastEventGlobalPosition) },
    }) + "\n",
  );
  const result = await heldAppend;
  if (!result.success) throw new Error(`append to ${early} failed`);
};

try {
  let conflict = null;
  if (more) await writeMore();
  else if (hold) await commitOutOfOrder();
  else conflict = await writeHistory();

  // -- read it all back through Emmett's API ---------------------------------------------
  // Emmett lists no streams; its global read names every stream that has a message.
  const readGlobally = async () => {
    const found = [];
    let after = 0n;
    for (;;) {
      const batch = await readMessagesBatch(pool.execute, { after, batchSize: 100 });
      for (const m of batch.messages) {
        found.push({
          global_position: Number(m.metadata.globalPosition),
          stream_id: m.metadata.streamName,
          stream_position: Number(m.metadata.streamPosition),
          type: m.type,
          message_id: m.metadata.messageId,
        });
      }
      if (!batch.areMessagesLeft) return found;
      after = batch.currentGlobalPosition;
    }
  };
  // Emmett's global read leaves out every message committed after the oldest transaction
  // still open anywhere on the server (it reads below pg_snapshot_xmin), so a session of
  // another program on the same server can hide part of what this script committed. The
  // reading is taken once it holds every message stored, waiting up to a minute for such a
  // transaction to end.
  const stored = async () =>
    Number(await count(pool.execute.query(sql(
      "SELECT count(*)::int AS count FROM emt_messages WHERE is_archived = FALSE"))));
  let globalOrder = await readGlobally();
  for (let waited = 0; globalOrder.length < (await stored()) && waited < 600; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    globalOrder = await readGlobally();
  }

  const streamIds = [...new Set(globalOrder.map((m) => m.stream_id))].sort();
  const streams = [];
  for (const streamId of streamIds) {
    const { currentStreamVersion, events, streamExists } = await eventStore.readStream(streamId);
    streams.push({
      stream_id: streamId,
      exists: streamExists,
      current_stream_version: Number(currentStreamVersion),
      events: events.map((e) => ({
        type: e.type,
        kind: e.kind,
        data: e.data,
        metadata: e.metadata,
        message_id: e.metadata.messageId,
        stream_position: Number(e.metadata.streamPosition),
        global_position: Number(e.metadata.globalPosition),
      })),
    });
  }

  const versionOf = (name) =>
    JSON.parse(readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), "utf8"))
      .version;
  const out = {
    emmett: {
      "@event-driven-io/emmett": versionOf("@event-driven-io/emmett"),
      "@event-driven-io/emmett-postgresql": versionOf("@event-driven-io/emmett-postgresql"),
    },
    seed,
    streams,
    global_order: globalOrder,
    appends,
    conflict,
  };
  // Emmett's reader revives long numeric strings (how it stores a BigInt) and bigint columns as
  // BigInt; they are printed as the decimal strings Emmett's writer stored.
  process.stdout.write(
    JSON.stringify(out, (_, v) => (typeof v === "bigint" ? v.toString() : v), 1) + "\n",
  );
} finally {
  await eventStore.close();
  await pool.close();
}
