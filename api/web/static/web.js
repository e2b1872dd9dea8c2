// The NHS.UK components' behaviour (error summary focus, header menu, password reveal).
// Every page works without it.
import { initAll } from "./nhsuk-frontend/nhsuk-frontend.min.js";

initAll();
