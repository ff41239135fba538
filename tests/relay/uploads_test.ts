import assert from "node:assert/strict";
import {
  denoUploadFs,
  fileInputFallbackCall,
  MAX_UPLOAD_BYTES,
  readUploadFiles,
  UploadError,
  type UploadFs,
} from "../../relay/uploads.ts";

/** An in-memory file tree: files with contents and mtimes, directories, unreadable paths. */
class FakeUploadFs implements UploadFs {
  readonly files = new Map<string, { bytes: Uint8Array; mtimeMs: number }>();
  readonly dirs = new Set<string>();
  readonly unreadable = new Set<string>();
  readonly reads: string[] = [];

  add(path: string, text: string, mtimeMs = 1_700_000_000_000): this {
    this.files.set(path, { bytes: new TextEncoder().encode(text), mtimeMs });
    return this;
  }
  stat(path: string): ReturnType<UploadFs["stat"]> {
    if (this.dirs.has(path)) return Promise.resolve({ isDirectory: true, size: 4096, mtimeMs: 0 });
    const file = this.files.get(path);
    return Promise.resolve(
      file === undefined
        ? undefined
        : { isDirectory: false, size: file.bytes.length, mtimeMs: file.mtimeMs },
    );
  }
  readFile(path: string): Promise<Uint8Array> {
    this.reads.push(path);
    if (this.unreadable.has(path)) {
      return Promise.reject(new Error(`Permission denied (os error 13): readfile '${path}'`));
    }
    const file = this.files.get(path);
    return file === undefined
      ? Promise.reject(new Error("not found"))
      : Promise.resolve(file.bytes);
  }
}

Deno.test("readUploadFiles() reads files in order with name, type, mtime and base64 body", async () => {
  const fs = new FakeUploadFs().add("/u/a.txt", "hello").add("/u/Photo.JPG", "\u00ff", 5);
  assert.deepEqual(await readUploadFiles(["/u/a.txt", "/u/Photo.JPG"], { fs }), [
    { name: "a.txt", mimeType: "text/plain", lastModified: 1_700_000_000_000, base64: "aGVsbG8=" },
    { name: "Photo.JPG", mimeType: "image/jpeg", lastModified: 5, base64: "w78=" },
  ]);
});

Deno.test("readUploadFiles() turns a missing file into an empty file of that name, as Chrome does", async () => {
  const fs = new FakeUploadFs();
  assert.deepEqual(await readUploadFiles(["/nowhere/x.bin"], { fs }), [
    { name: "x.bin", mimeType: "", lastModified: 0, base64: "" },
  ]);
});

Deno.test("readUploadFiles() refuses a directory with a specific error", async () => {
  const fs = new FakeUploadFs();
  fs.dirs.add("/u/dir");
  await assert.rejects(readUploadFiles(["/u/dir"], { fs }), {
    name: "UploadError",
    code: "directory",
    path: "/u/dir",
    message: 'Cannot upload "/u/dir" as it is a directory',
  });
});

Deno.test("readUploadFiles() refuses an unreadable file naming the reason", async () => {
  const fs = new FakeUploadFs().add("/u/secret", "x");
  fs.unreadable.add("/u/secret");
  await assert.rejects(readUploadFiles(["/u/secret"], { fs }), (error: unknown) => {
    assert.ok(error instanceof UploadError);
    assert.equal(error.code, "unreadable");
    assert.equal(
      error.message,
      `Cannot upload "/u/secret" as it cannot be read: Permission denied (os error 13): readfile '/u/secret'`,
    );
    return true;
  });
});

Deno.test("readUploadFiles() checks the total against the cap before reading anything", async () => {
  const fs = new FakeUploadFs().add("/u/a", "12345").add("/u/b", "678");
  await assert.rejects(readUploadFiles(["/u/a", "/u/b"], { fs, maxBytes: 7 }), {
    name: "UploadError",
    code: "too_large",
    message:
      "Cannot upload the files as they exceed the 7-byte upload cap of the relay: current size is 8 bytes",
  });
  assert.deepEqual(fs.reads, []);
  assert.equal(MAX_UPLOAD_BYTES, 50 * 1024 * 1024);
});

Deno.test("fileInputFallbackCall() builds Runtime.callFunctionOn params for the element", () => {
  const files = [{ name: "a.txt", mimeType: "text/plain", lastModified: 1, base64: "YQ==" }];
  const call = fileInputFallbackCall("obj-1", files);
  assert.equal(call.objectId, "obj-1");
  assert.deepEqual(call.arguments, [{ value: files }]);
  assert.equal(call.returnByValue, true);
  assert.match(call.functionDeclaration, /^function \(files\)/);
  assert.match(call.functionDeclaration, /new DataTransfer\(\)/);
});

const canWrite = (await Deno.permissions.query({ name: "write" })).state === "granted";

Deno.test({
  name: "denoUploadFs() stats files and directories and reports a missing path as undefined",
  ignore: !canWrite,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/a.txt`, "abc");
      const file = await denoUploadFs.stat(`${dir}/a.txt`);
      assert.equal(file?.isDirectory, false);
      assert.equal(file?.size, 3);
      assert.equal((await denoUploadFs.stat(dir))?.isDirectory, true);
      assert.equal(await denoUploadFs.stat(`${dir}/missing`), undefined);
      assert.deepEqual([...await denoUploadFs.readFile(`${dir}/a.txt`)], [97, 98, 99]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
