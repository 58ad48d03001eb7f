ALTER TABLE "plans" ADD COLUMN "write_locked_until" timestamp with time zone;--> statement-breakpoint
-- Before the one-open-checkout rule: only each user's newest open checkout stays open.
UPDATE "checkouts" SET "status" = 'expired' WHERE "status" = 'open' AND "id" NOT IN (
  SELECT DISTINCT ON ("user_id") "id" FROM "checkouts" WHERE "status" = 'open' ORDER BY "user_id", "created_at" DESC
);--> statement-breakpoint
CREATE UNIQUE INDEX "checkouts_one_open_per_user_key" ON "checkouts" USING btree ("user_id") WHERE "checkouts"."status" = 'open';
