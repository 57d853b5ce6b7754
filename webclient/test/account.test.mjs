// The account service («Личный кабинет») end to end in headless Chromium:
// the demo page against the real demo server (bin/podpis-demo with the
// account service on SQLite), the real agent (bin/podpis, soft token) and
// the real far ends of code delivery (webclient/testing/codesink: an SMTP
// server and the SMS gateway of docs/account.md). Codes are read from the
// SMS and the mail the way a person reads them. Run after `make build`;
// screenshots of every screen, at 360 px and on a desktop, go to
// $ARTIFACTS (default test/screenshots) as account-*.png.
//
// ACCOUNT_DB=postgres runs the same flow on a throwaway PostgreSQL
// (Debian's postgresql, started here as its own user) instead of SQLite:
// account-postgres.test.mjs does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, mkdirSync, rmSync, chownSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { root, bin, shots, procs, freePort, start, launchChromium, agentPrompts, settle } from "../testing/harness.mjs";

let browser, data, demo, prompts, sink, seeded, pgDir;

// The people of this test: one registers by phone, one by e-mail.
const PHONE = { typed: "9161234567", shown: "+7 (916) 123-45-67", e164: "+79161234567", password: "Весенний-дождь-2026" };
const EMAIL = { typed: "Anna.Smirnova@Example.RU", address: "anna.smirnova@example.ru", password: "ключ от всех дверей" };

// --- The far ends of delivery -------------------------------------------------

// messages returns what the SMS gateway or the SMTP server received for to.
async function messages(to) {
  const r = await fetch(`${sink.messages}?to=${encodeURIComponent(to)}`);
  return r.json();
}

// nextCode waits for message number n (counting from 1) to to and returns
// its six-digit code.
async function nextCode(to, n) {
  for (let i = 0; i < 600; i++) {
    const msgs = await messages(to);
    if (msgs.length >= n) {
      const m = /\b(\d{6})\b/.exec(msgs[n - 1].text);
      assert.ok(m, `message ${n} to ${to} carries no code: ${msgs[n - 1].text}`);
      return m[1];
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no message ${n} to ${to}`);
}

// otherCode is a code that is not code.
const otherCode = (code) => String((Number(code) + 1) % 1e6).padStart(6, "0");

// --- The agent's prompts ---------------------------------------------------------

// answerPIN answers the agent's next question, the PIN of a login
// signature, as the person would on the agent's page.
async function answerPIN(context, expect) {
  const page = await context.newPage();
  await page.goto(await prompts.next());
  await page.waitForSelector("main form");
  if (expect) assert.match(await page.textContent("main"), expect);
  await page.fill("#pin", "1234");
  await settle();
  await page.click('button[value="sign"]');
  await page.waitForSelector("text=Готово");
  await page.close();
}

// --- Pages --------------------------------------------------------------------

async function newPage(width = 1280) {
  const context = await browser.newContext({ locale: "ru-RU", viewport: { width, height: 900 } });
  return { context, page: await context.newPage() };
}

// shot takes the screen as it is on a desktop and at 360 px, and checks
// that at 360 px nothing scrolls sideways.
const shotPrefix = process.env.ACCOUNT_DB === "postgres" ? "account-pg-" : "account-";
async function shot(page, name) {
  const size = page.viewportSize();
  await page.screenshot({ path: path.join(shots, `${shotPrefix}${name}.png`), fullPage: true });
  await page.setViewportSize({ width: 360, height: 780 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, `«${name}» scrolls sideways at 360 px`);
  await page.screenshot({ path: path.join(shots, `${shotPrefix}${name}-360px.png`), fullPage: true });
  await page.setViewportSize(size);
}

// step waits for a screen and checks that the focus moved to its heading,
// where a screen reader starts reading.
async function step(page, id) {
  await page.waitForSelector(`#${id}:not([hidden])`);
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  assert.equal(focused, `${id}-title`, `the focus after «${id}»`);
}

async function loginByPassword(page, who, password) {
  await page.goto(demo);
  await page.waitForSelector("#login:not([hidden])");
  if (who.email) {
    await page.click("#login-form .by-switch");
    await page.fill("#login-email", who.email);
  } else {
    await page.click("#login-phone");
    await page.keyboard.type(who.phone);
  }
  await page.fill("#login-password", password);
  await page.click("#login-go");
}

async function logout(page) {
  await page.click("#logout");
  await step(page, "login");
  assert.match(await page.textContent("#status"), /Вы вышли/);
}

// startSink runs codesink and reads the addresses it prints.
function startSink() {
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(data, "codesink"), [], { stdio: ["ignore", "pipe", "inherit"] });
    procs.push(p);
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
      const m = /^smtp (\S+)\nsms (\S+)\nmessages (\S+)\n/.exec(out);
      if (m) resolve({ smtp: m[1], sms: m[2], messages: m[3] });
    });
    p.on("exit", (code) => reject(new Error(`codesink exited ${code}: ${out}`)));
  });
}

// startPostgres runs a throwaway PostgreSQL on a loopback port and returns
// its DSN. PostgreSQL refuses root: as root it runs as the postgres user.
async function startPostgres() {
  const pgbin = (n) => {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    return path.join("/usr/lib/postgresql", versions[0], "bin", n);
  };
  const dir = (pgDir = mkdtempSync(path.join(tmpdir(), "podpis-account-pg-")));
  const as = {};
  if (process.getuid() === 0) {
    as.uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
    as.gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
    chownSync(dir, as.uid, as.gid);
  }
  execFileSync(pgbin("initdb"), ["-D", path.join(dir, "data"), "-U", "podpis", "--auth=trust", "-E", "UTF8", "--no-sync"], { ...as, stdio: "ignore" });
  const port = await freePort();
  const p = spawn(pgbin("postgres"), ["-D", path.join(dir, "data"), "-k", dir, "-h", "127.0.0.1", "-p", String(port), "-F"],
    { ...as, stdio: ["ignore", "pipe", "pipe"] });
  procs.push(p);
  await new Promise((resolve, reject) => {
    let out = "";
    const on = (d) => {
      out += d;
      if (/ready to accept connections/.test(out)) resolve();
    };
    p.stdout.on("data", on);
    p.stderr.on("data", on);
    p.on("exit", (code) => reject(new Error(`postgres exited ${code}: ${out}`)));
  });
  return `postgres://podpis@127.0.0.1:${port}/postgres?sslmode=disable`;
}

// --- Setup --------------------------------------------------------------------

before(async () => {
  mkdirSync(shots, { recursive: true });
  data = mkdtempSync(path.join(tmpdir(), "podpis-account-e2e-"));
  execFileSync(bin("podpis-demo"), ["init", "--dir", data]);
  seeded = JSON.parse(readFileSync(path.join(data, "demo-account.json"), "utf8"));
  mkdirSync(path.join(data, "agent"));
  prompts = agentPrompts(data);

  // Built into this run's folder: account-postgres.test.mjs may build
  // it at the same time.
  execFileSync("go", ["build", "-o", path.join(data, "codesink"), "./webclient/testing/codesink"], { cwd: root });
  sink = await startSink();

  const agentPort = await freePort();
  const port = await freePort();
  demo = `http://127.0.0.1:${port}`;
  const db = process.env.ACCOUNT_DB === "postgres" ? ["--postgres", await startPostgres()] : [];
  await start(bin("podpis-demo"), ["serve", "--listen", `127.0.0.1:${port}`, "--roots", path.join(data, "roots.pem"),
    "--intermediates", path.join(data, "intermediates.pem"), "--agent-port", String(agentPort),
    "--smtp", sink.smtp, "--smtp-from", "podpis@localhost", "--sms-gateway", sink.sms, ...db], {}, /Откройте/);
  await start(bin("podpis"), ["run", "--listen", `127.0.0.1:${agentPort}`, "--no-known-modules",
    "--module", bin("libpodpis-softtoken.so"), "--trust-origin", demo],
    prompts.env, /listening on/);
  browser = await launchChromium();
});

after(async () => {
  if (browser) await browser.close();
  const exits = procs.filter((p) => p.exitCode === null).map((p) => new Promise((r) => p.once("exit", r)));
  for (const p of procs) p.kill("SIGINT");
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000))]);
  if (data) rmSync(data, { recursive: true, force: true });
  if (pgDir) rmSync(pgDir, { recursive: true, force: true });
});

// --- The tests, in the order a person meets the screens -----------------------------

test("register by phone: the mask, the code from the SMS gateway, a wrong code, «Телефон подтвержден!»", async () => {
  const { context, page } = await newPage();
  await page.goto(demo);
  await page.waitForSelector("#login:not([hidden])");
  for (const text of ["Вход в Личный кабинет", "Телефон", "По email", "Пароль", "Войти", "Нет аккаунта?", "Регистрация",
    "или авторизуйтесь через", "Сертификат", "Госуслуги", "Telegram", "Учётная запись ЕСИА", "У меня есть код", "Забыли пароль?"]) {
    assert.ok((await page.innerText("#login")).includes(text), `the login screen lacks «${text}»`);
  }
  await shot(page, "01-login");

  await page.click("#to-register");
  await step(page, "register");
  // The mask: digits typed become +7 (916) 123-45-67; a leading 8 is the
  // trunk prefix, not the code's first digit.
  await page.click("#register-phone");
  await page.keyboard.type("8" + PHONE.typed);
  assert.equal(await page.inputValue("#register-phone"), PHONE.shown);
  await page.fill("#register-phone", "");
  await page.keyboard.type(PHONE.typed.slice(0, 5));
  assert.equal(await page.inputValue("#register-phone"), "+7 (916) 12");
  await page.keyboard.press("Backspace");
  await page.keyboard.press("Backspace");
  assert.equal(await page.inputValue("#register-phone"), "+7 (916");
  await page.keyboard.type(PHONE.typed.slice(3));
  assert.equal(await page.inputValue("#register-phone"), PHONE.shown);

  // The form says what is wrong at the field, before anything is sent.
  await page.fill("#register-password", "корот");
  await page.click("#register-go");
  await page.waitForSelector('#register-password[aria-invalid="true"]');
  assert.match(await page.textContent("#register-form"), /не короче 8 символов/);
  assert.equal(await page.evaluate(() => document.activeElement.id), "register-password");
  assert.equal((await messages(PHONE.e164)).length, 0, "a code was sent for a form the page refused");
  await shot(page, "02-register-invalid");

  await page.fill("#register-password", PHONE.password);
  await shot(page, "03-register");
  await page.click("#register-go");
  await step(page, "confirm");
  assert.equal(await page.textContent("#confirm-title"), "Подтвердите телефон");
  assert.match(await page.textContent("#confirm"), /Код подтверждения отправлен на \+7 \(916\) \*\*\*-\*\*-67/);
  assert.match(await page.textContent("#confirm"), /Не получили код\?/);
  assert.match(await page.textContent("#confirm-back"), /← Вернуться к началу регистрации/);

  // The resend countdown is shown and counts down.
  assert.ok(await page.isVisible("#resend-wait") && !(await page.isVisible("#resend")));
  const first = Number(await page.textContent("#resend-seconds"));
  assert.ok(first > 50 && first <= 60, `countdown starts at ${first}`);
  await page.waitForFunction((n) => Number(document.getElementById("resend-seconds").textContent) <= n - 2, first);
  assert.match(await page.innerText("#resend-wait"), /^Отправить повторно через \d+/);
  await shot(page, "04-confirm-phone");

  const code = await nextCode(PHONE.e164, 1);
  await page.fill("#confirm-code", otherCode(code));
  await page.click("#confirm-go");
  await page.waitForSelector('#confirm-code[aria-invalid="true"]');
  assert.match(await page.textContent("#confirm-form"), /Неверный код\. Осталось попыток: 4/);
  await shot(page, "05-confirm-wrong-code");

  await page.fill("#confirm-code", code);
  await page.click("#confirm-go");
  await step(page, "confirmed");
  assert.equal(await page.textContent("#confirmed-title"), "Телефон подтвержден!");
  await shot(page, "06-phone-confirmed");
  await page.click("#to-account");
  await step(page, "done");
  assert.match(await page.textContent("#done-title"), /Вы вошли как \+7 \(916\) 123-45-67/);
  assert.ok(await page.isVisible("#linked-empty"), "a new account has no certificates");
  assert.match(await page.textContent("#contacts"), /\+7 \(916\) 123-45-67/);
  await logout(page);
  await context.close();
});

test("register by e-mail: the code from the SMTP server, resend once the countdown ends", async () => {
  const { context, page } = await newPage();
  await page.goto(demo);
  await page.click("#to-register");
  await page.click("#register-form .by-switch");
  assert.equal(await page.evaluate(() => document.activeElement.id), "register-email");
  await page.fill("#register-email", "not-an-address");
  await page.fill("#register-password", EMAIL.password);
  await page.click("#register-go");
  await page.waitForSelector('#register-email[aria-invalid="true"]');
  assert.match(await page.textContent("#register-form"), /Адрес электронной почты указан неверно/);
  await page.fill("#register-email", EMAIL.typed);
  await shot(page, "07-register-email");
  await page.click("#register-go");
  await step(page, "confirm");
  assert.equal(await page.textContent("#confirm-title"), "Подтвердите email");
  const first = await nextCode(EMAIL.address, 1);
  const mail = (await messages(EMAIL.address))[0];
  assert.equal(mail.channel, "email");
  assert.match(mail.subject, /Код подтверждения/);

  // The person waits out the countdown: «Отправить повторно» appears, and
  // a second mail brings a new code.
  await page.waitForSelector("#resend:not([hidden])", { timeout: 75000 });
  assert.ok(!(await page.isVisible("#resend-wait")));
  await shot(page, "08-confirm-resend");
  await page.click("#resend");
  const second = await nextCode(EMAIL.address, 2);
  // The mail may arrive before the page has the server's answer: wait for
  // the countdown rather than look at once.
  await page.waitForSelector("#resend-wait", { state: "visible", timeout: 10000 });
  assert.ok(await page.isHidden("#resend"), "the countdown starts again");
  if (second !== first) {
    // The first code is no longer the one.
    await page.fill("#confirm-code", first);
    await page.click("#confirm-go");
    await page.waitForSelector('#confirm-code[aria-invalid="true"]');
  }
  await page.fill("#confirm-code", second);
  await page.click("#confirm-go");
  await step(page, "confirmed");
  assert.equal(await page.textContent("#confirmed-title"), "Email подтверждён!");
  await page.click("#to-account");
  await step(page, "done");
  assert.match(await page.textContent("#contacts"), new RegExp(EMAIL.address.replace(/\./g, "\\.")));
  await logout(page);
  await context.close();
});

test("five wrong codes lock the code: the right one is refused after them", async () => {
  const { context, page } = await newPage();
  await page.goto(demo);
  await page.click("#to-code");
  await step(page, "ask-code");
  await page.click("#ask-code-phone");
  await page.keyboard.type(PHONE.typed);
  await shot(page, "09-ask-code");
  const before = (await messages(PHONE.e164)).length;
  await page.click("#ask-code-go");
  await step(page, "confirm");
  assert.equal(await page.textContent("#confirm-title"), "Введите код");
  const code = await nextCode(PHONE.e164, before + 1);
  for (let i = 1; i <= 5; i++) {
    await page.fill("#confirm-code", otherCode(code));
    await page.click("#confirm-go");
    if (i < 5) {
      await page.waitForFunction((left) => document.getElementById("confirm-form").textContent.includes("Осталось попыток: " + left), 5 - i);
    }
  }
  await page.waitForSelector("#confirm-code:disabled");
  assert.match(await page.textContent("#confirm-form .form-error"), /Запросите новый код/);
  await shot(page, "10-code-locked");
  // The page no longer lets the code be typed. Forced open again, as an
  // attacker would, the right code is refused by the server all the same.
  await page.evaluate(() => {
    document.getElementById("confirm-code").disabled = false;
    document.getElementById("confirm-go").disabled = false;
    document.querySelector("#confirm-form .form-error").textContent = "";
  });
  await page.fill("#confirm-code", code);
  await page.click("#confirm-go");
  await page.waitForSelector("#confirm-code:disabled");
  assert.match(await page.textContent("#confirm-form .form-error"), /Запросите новый код/);
  assert.ok(await page.isVisible("#confirm") && !(await page.isVisible("#done")), "the locked code logged in");
  await context.close();
});

test("log in by password; a wrong password is refused with the same words as an unknown account", async () => {
  const { context, page } = await newPage();
  await loginByPassword(page, { phone: PHONE.typed }, "не тот пароль");
  await page.waitForSelector("#login-form .form-error:not(:empty)");
  const wrong = await page.textContent("#login-form .form-error");
  await shot(page, "11-login-wrong-password");
  await loginByPassword(page, { phone: "9990001122" }, "не тот пароль");
  await page.waitForFunction((w) => document.querySelector("#login-form .form-error").textContent === w, wrong);

  await loginByPassword(page, { phone: PHONE.typed }, PHONE.password);
  await step(page, "done");
  assert.match(await page.textContent("#who-how"), /Вход по паролю/);
  assert.match(await page.textContent("#sessions"), /этот сеанс/);
  await logout(page);
  await context.close();
});

test("log in by a one-time code sent by e-mail", async () => {
  const { context, page } = await newPage();
  await page.goto(demo);
  await page.click("#to-code");
  await page.click("#ask-code-form .by-switch");
  await page.fill("#ask-code-email", EMAIL.address);
  const before = (await messages(EMAIL.address)).length;
  await page.click("#ask-code-go");
  await step(page, "confirm");
  assert.match(await page.textContent("#confirm-back"), /Вернуться ко входу/);
  await page.fill("#confirm-code", await nextCode(EMAIL.address, before + 1));
  await page.click("#confirm-go");
  await step(page, "done");
  assert.match(await page.textContent("#who-how"), /Вход по коду из письма/);
  await logout(page);
  await context.close();
});

test("«Забыли пароль?»: a new password by a code; the old one no longer logs in", async () => {
  const { context, page } = await newPage();
  await page.goto(demo);
  await page.click("#to-reset");
  await step(page, "ask-code");
  assert.equal(await page.textContent("#ask-code-title"), "Восстановление пароля");
  await page.click("#ask-code-phone");
  await page.keyboard.type(PHONE.typed);
  await shot(page, "12-reset");
  const before = (await messages(PHONE.e164)).length;
  await page.click("#ask-code-go");
  await step(page, "confirm");
  assert.equal(await page.textContent("#confirm-title"), "Новый пароль");
  await page.fill("#confirm-code", await nextCode(PHONE.e164, before + 1));
  PHONE.old = PHONE.password;
  PHONE.password = "Новый пароль осени";
  await page.fill("#confirm-password", PHONE.password);
  await shot(page, "13-reset-confirm");
  await page.click("#confirm-go");
  await step(page, "done");
  assert.match(await page.textContent("#status"), /Пароль изменён/);
  await logout(page);

  await loginByPassword(page, { phone: PHONE.typed }, PHONE.old);
  await page.waitForSelector("#login-form .form-error:not(:empty)");
  await loginByPassword(page, { phone: PHONE.typed }, PHONE.password);
  await step(page, "done");
  await logout(page);
  await context.close();
});

test("certificates: unlink, an unlinked certificate refused, link through the agent, log in by it, log out everywhere", async () => {
  const { context, page } = await newPage();
  // The seeded demo account has the soft token's certificates; it gives
  // up Петрова's.
  await loginByPassword(page, { email: seeded.email }, seeded.password);
  await step(page, "done");
  const linked = () => page.$$eval("#linked .linked-cert .name", (ns) => ns.map((n) => n.textContent));
  assert.deepEqual((await linked()).sort(), ["Иванов Иван Иванович", "Петрова Мария Сергеевна"]);
  assert.match(await page.textContent("#linked"), /СНИЛС/);
  assert.match(await page.textContent("#linked"), /Издатель: Демонстрационный УЦ podpis/);
  await shot(page, "14-account-seeded");
  await page.click("#linked .linked-cert:has-text('Петрова') .unlink");
  await page.waitForSelector("#linked .linked-cert:has-text('Петрова') button.danger");
  await shot(page, "15-unlink-ask");
  await page.click("#linked .linked-cert:has-text('Петрова') button.danger");
  await page.waitForFunction(() => !document.getElementById("linked").textContent.includes("Петрова"));
  assert.match(await page.textContent("#status"), /отвязан/);
  await logout(page);

  // Петрова's certificate, linked to nobody now, does not log in.
  await page.click("#by-cert");
  await step(page, "choose");
  await page.click(".cert:has-text('Петрова')");
  await answerPIN(context, /вход на сайт/);
  await page.waitForSelector("#cert-refused:not([hidden])");
  assert.match(await page.textContent("#cert-refused"), /Сертификат не привязан к учётной записи/);
  assert.match(await page.textContent("#cert-refused"), /Привязать сертификат/);
  assert.ok(await page.isVisible("#login"), "the refused person is still on the login screen");
  await shot(page, "16-cert-not-linked");

  // The phone account links it: the person signs the link challenge.
  await loginByPassword(page, { phone: PHONE.typed }, PHONE.password);
  await step(page, "done");
  await page.click("#link-cert");
  await step(page, "choose");
  assert.equal(await page.textContent("#choose-title"), "Выберите сертификат для привязки");
  await shot(page, "17-link-choose");
  await page.click(".cert:has-text('Петрова')");
  await answerPIN(context);
  await page.waitForSelector("#linked .linked-cert:has-text('Петрова')");
  assert.match(await page.textContent("#status"), /привязан/);
  assert.match(await page.textContent("#linked"), /ИНН 500100732259/);
  await shot(page, "18-account-linked");
  await logout(page);

  // Now it logs in, to the phone account.
  await page.click("#by-cert");
  await page.click(".cert:has-text('Петрова')");
  await answerPIN(context);
  await step(page, "done");
  assert.match(await page.textContent("#done-title"), /Вы вошли как Петрова Мария Сергеевна/);
  assert.match(await page.textContent("#who-details"), /500100732259/);
  assert.match(await page.textContent("#contacts"), /\+7 \(916\) 123-45-67/);
  assert.match(await page.textContent("#who-how"), /Вход по сертификату/);
  await shot(page, "19-account-by-certificate");

  // Two more browsers of this account: one is ended from this page
  // («Завершить»), then «Выйти на всех устройствах» ends the rest.
  const other = await newPage();
  await loginByPassword(other.page, { phone: PHONE.typed }, PHONE.password);
  await step(other.page, "done");
  const third = await newPage();
  await loginByPassword(third.page, { phone: PHONE.typed }, PHONE.password);
  await step(third.page, "done");
  await page.reload();
  await page.waitForSelector("#done:not([hidden])");
  const sessions = () => page.$$eval("#sessions li", (l) => l.length);
  const before = await sessions();
  assert.ok(before >= 3, `${before} sessions listed`);
  assert.match(await page.textContent("#sessions li:first-child"), /этот сеанс/);
  await shot(page, "20-sessions");
  await page.click("#sessions li:nth-child(2) button");
  await page.waitForFunction((n) => document.querySelectorAll("#sessions li").length === n - 1, before);
  // Which of the two it was: the one whose reload now shows the login.
  await other.page.reload();
  await third.page.reload();
  await other.page.waitForSelector("#login:not([hidden]), #done:not([hidden])");
  await third.page.waitForSelector("#login:not([hidden]), #done:not([hidden])");
  const ended = [await other.page.isVisible("#login"), await third.page.isVisible("#login")].filter(Boolean).length;
  assert.equal(ended, 1, "«Завершить» ended one other browser");
  await third.context.close();
  await page.click("#logout-all");
  await step(page, "login");
  assert.match(await page.textContent("#status"), /на всех устройствах/);
  await other.page.reload();
  await other.page.waitForSelector("#login:not([hidden])");
  assert.ok(!(await other.page.isVisible("#done")), "the other browser is still logged in");
  await other.context.close();

  // Unlinked again, it is refused again.
  await loginByPassword(page, { phone: PHONE.typed }, PHONE.password);
  await step(page, "done");
  await page.click("#linked .linked-cert:has-text('Петрова') .unlink");
  await page.click("#linked .linked-cert:has-text('Петрова') button.danger");
  await page.waitForSelector("#linked-empty:not([hidden])");
  await logout(page);
  await page.click("#by-cert");
  await page.click(".cert:has-text('Петрова')");
  await answerPIN(context);
  await page.waitForSelector("#cert-refused:not([hidden])");
  await context.close();
});

test("by keyboard alone: Tab to the phone, type, Tab to the password, Enter; the refusal is read out", async () => {
  const { context, page } = await newPage(360);
  await page.goto(demo);
  await page.waitForSelector("#login:not([hidden])");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "login-phone", "the first stop is the phone");
  await page.keyboard.type(PHONE.typed);
  await page.keyboard.press("Tab"); // «По email»
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.id), "login-password");
  await page.keyboard.type("не тот пароль");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#login-form .form-error:not(:empty)");
  // The refusal is in a live region: a screen reader says it unasked.
  assert.equal(await page.getAttribute("#login-form .form-error", "role"), "alert");
  await page.fill("#login-password", "");
  await page.keyboard.type(PHONE.password);
  await page.keyboard.press("Enter");
  await step(page, "done");
  await logout(page);
  await context.close();
});

test("a POST without the CSRF token is refused, and changes nothing", async () => {
  const { context, page } = await newPage();
  await page.goto(demo);
  const before = (await messages(PHONE.e164)).length;
  const res = await page.evaluate(async (phone) => {
    const r = await fetch("/api/account/code", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ phone }) });
    return { status: r.status, body: await r.json() };
  }, PHONE.e164);
  assert.equal(res.status, 403);
  assert.equal(res.body.code, "CSRF");
  assert.equal((await messages(PHONE.e164)).length, before, "a code was sent for a forged request");
  await context.close();
});
