#!/usr/bin/env node
"use strict";
// The CLI and the daemon are one bundle; `npm run build` writes it.
require("../dist/lathe.js");
