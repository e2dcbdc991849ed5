import { catalogSync } from "./catalog-sync";
import { enrichItem } from "./enrich-item";
import { parseDocument } from "./parse-document";
import { scrapeAndAlert } from "./scrape-and-alert";

export const functions = [scrapeAndAlert, catalogSync, enrichItem, parseDocument];
