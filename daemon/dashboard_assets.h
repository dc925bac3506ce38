/* The dashboard's page, style and script (daemon/dashboard/), embedded at build
 * time by scripts/embed_files.py: served as they are, no build step of their own. */
#pragma once

extern const char dashboard_asset_html[];
extern const char dashboard_asset_css[];
extern const char dashboard_asset_js[];
