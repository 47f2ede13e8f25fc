// store.js -- sessions, and the results (and the images of a batch not yet classified) in
// IndexedDB, so a reload in the middle of a batch loses nothing. Three object stores:
//   sessions: {id, created, updated, operator}   (one sitting's work, ISO times)
//   cells:    one record per image, indexed by session and (version 4) by [session, slide]:
//     {id, session, slide, batch, name, mode: 'auto'|'cell'|'field' (as asked),
//      status: 'pending'|'done'|'error', result?, error?, review?, reviews?}
//   images:   the image of each cell record, {id (the cell's), session, blob}, indexed by session
// result is the classifier's as it came: a cut-out cell's, or a whole field's with its cells
// (box, status, call, outline) in the same record. The records this module returns carry their
// image as `blob`; it is written once, when the image is added: a result, review or new mode
// rewrites the cell record only (before version 3 the image was in it, and every result copied
// the image again: BENCHMARKS.md). Upgrades: results stored before sessions (version 1) are
// moved into one session, "earlier results"; version 1 and 2 images move to the images store.
// A write that does not fit rejects with the browser's error (name 'QuotaExceededError' when the
// device's storage is full): the page says so.
const DB_NAME = 'malaria-screen';
const DB_VERSION = 4;
const STORE = 'cells';
const IMAGES = 'images';
const SESSIONS = 'sessions';
const SLIDES = 'sessionSlide';
const ADD_STEP = 32; // pending records added in one task (each holds an image)

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class ResultStore {
  static async open() {
    const open = indexedDB.open(DB_NAME, DB_VERSION);
    open.onupgradeneeded = (ev) => {
      const db = open.result;
      const tx = open.transaction;
      const cells = db.objectStoreNames.contains(STORE)
        ? tx.objectStore(STORE)
        : db.createObjectStore(STORE, { keyPath: 'id', autoIncrement: true });
      if (!cells.indexNames.contains('session')) cells.createIndex('session', 'session');
      // version 4: a session's slides without reading its records (the sessions list)
      if (!cells.indexNames.contains(SLIDES)) cells.createIndex(SLIDES, ['session', 'slide']);
      // the images store is new in version 3, so it exists here exactly when a version 1 or 2
      // database has images to move into it
      const images = db.objectStoreNames.contains(IMAGES)
        ? tx.objectStore(IMAGES)
        : db.createObjectStore(IMAGES, { keyPath: 'id' });
      if (!images.indexNames.contains('session')) images.createIndex('session', 'session');
      // a record of version 1 or 2 as it is from version 3 on: its image in the images store
      const moveImage = (cur, value) => {
        const { blob, ...rec } = value;
        if (blob !== undefined) images.put({ id: rec.id, session: rec.session, blob });
        cur.update(rec);
      };
      const eachCell = (fn) => {
        cells.openCursor().onsuccess = (c) => {
          const cur = c.target.result;
          if (!cur) return;
          fn(cur, cur.value);
          cur.continue();
        };
      };
      if (!db.objectStoreNames.contains(SESSIONS)) {
        const sessions = db.createObjectStore(SESSIONS, { keyPath: 'id', autoIncrement: true });
        if (ev.oldVersion >= 1) {
          // results from before sessions: one session of their own
          const now = new Date().toISOString();
          sessions.add({ created: now, updated: now, operator: '', legacy: true }).onsuccess = (
            e,
          ) => {
            const sid = e.target.result;
            eachCell((cur, v) =>
              moveImage(cur, {
                ...v,
                session: v.session === undefined ? sid : v.session,
                slide: v.slide || '',
              }),
            );
          };
        }
      } else if (ev.oldVersion === 2) {
        eachCell(moveImage);
      }
    };
    const s = new ResultStore();
    s.db = await req(open);
    // a newer page in another tab upgrades the database: let it (this tab's writes then fail, said so)
    s.db.onversionchange = () => s.db.close();
    return s;
  }

  _tx(mode, fn, stores = STORE) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(stores, mode);
      let out;
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
      try {
        out = Array.isArray(stores)
          ? fn(...stores.map((n) => tx.objectStore(n)))
          : fn(tx.objectStore(stores));
      } catch (e) {
        try {
          tx.abort();
        } catch {
          /* already finished */
        }
        reject(e);
      }
    });
  }

  // --- sessions

  async newSession(fields = {}) {
    const now = new Date().toISOString();
    const rec = { created: now, updated: now, operator: '', ...fields };
    await this._tx(
      'readwrite',
      (os) => {
        os.add(rec).onsuccess = (ev) => {
          rec.id = ev.target.result;
        };
      },
      SESSIONS,
    );
    return rec;
  }

  async putSession(rec) {
    await this._tx('readwrite', (os) => os.put(rec), SESSIONS);
    return rec;
  }

  /**
   * The session last written to (null: none yet), without its counts: what the page reopens as
   * it opens. It reads the sessions store alone (the page used to take it from sessions(), which
   * then read every record of every session: BENCHMARKS.md, "a page with history").
   */
  async latestSession() {
    const list = await this._tx(
      'readonly',
      (ss) => {
        const out = [];
        ss.getAll().onsuccess = (ev) => out.push(...ev.target.result);
        return out;
      },
      SESSIONS,
    );
    return list.sort(latestFirst)[0] || null;
  }

  /**
   * Every session with its counts: [{...session, images, slides: [ids, in the order first
   * given]}], the latest first. Read from the indexes, not the records (a cursor over every
   * record's value before version 4): a count request a session, and one cursor step a
   * (session, slide) pair.
   */
  async sessions() {
    const [list, counts] = await this._tx(
      'readonly',
      (ss, cs) => {
        const out = [[], new Map()];
        const of = (k) => {
          if (!out[1].has(k)) out[1].set(k, { images: 0, slides: [] });
          return out[1].get(k);
        };
        ss.getAll().onsuccess = (ev) => {
          out[0] = ev.target.result;
          for (const s of out[0]) {
            cs.index('session').count(IDBKeyRange.only(s.id)).onsuccess = (e) => {
              of(s.id).images = e.target.result;
            };
          }
        };
        // 'nextunique': each pair once, at its record with the lowest id (the first given)
        cs.index(SLIDES).openKeyCursor(null, 'nextunique').onsuccess = (ev) => {
          const c = ev.target.result;
          if (!c) return;
          of(c.key[0]).slides.push({ slide: c.key[1], first: c.primaryKey });
          c.continue();
        };
        return out;
      },
      [SESSIONS, STORE],
    );
    return list
      .map((s) => {
        const n = counts.get(s.id) || { images: 0, slides: [] };
        const slides = n.slides.sort((a, b) => a.first - b.first).map((x) => x.slide);
        return { ...s, images: n.images, slides };
      })
      .sort(latestFirst);
  }

  /** Delete a session and every record of it. */
  async deleteSession(id) {
    await this._tx(
      'readwrite',
      (ss, cells, images) => {
        ss.delete(id);
        deleteOfSession(cells, id);
        deleteOfSession(images, id);
      },
      [SESSIONS, STORE, IMAGES],
    );
  }

  /** Delete every session, every record and every image. */
  async deleteAll() {
    await this._tx(
      'readwrite',
      (ss, cells, images) => {
        ss.clear();
        cells.clear();
        images.clear();
      },
      [SESSIONS, STORE, IMAGES],
    );
  }

  // --- records

  /** Add pending records for files ({name, blob, slide, mode}) to a session; resolves to the
   *  records with their ids. An item refused already ({name, error}, no blob: a file over the
   *  size limit) is added as that error, without an image. */
  async addPending(session, batch, items) {
    const recs = items.map((it) => ({
      session,
      slide: it.slide || '',
      batch,
      name: it.name,
      blob: it.blob,
      mode: it.mode || 'auto',
      status: it.error ? 'error' : 'pending',
      ...(it.error ? { error: it.error } : {}),
    }));
    // ADD_STEP records a task: the next step is added from the success of the last request of
    // the one before (the transaction stays open), so storing thousands of images at once is
    // one transaction but never one long task
    await this._tx(
      'readwrite',
      (cells, images) => {
        let i = 0;
        const step = () => {
          const end = Math.min(recs.length, i + ADD_STEP);
          for (; i < end; i++) {
            const r = recs[i];
            const last = i === end - 1 && end < recs.length;
            cells.add(withoutImage(r)).onsuccess = (ev) => {
              r.id = ev.target.result;
              if (r.blob) images.add({ id: r.id, session, blob: r.blob });
              if (last) step();
            };
          }
        };
        step();
      },
      [STORE, IMAGES],
    );
    return recs;
  }

  /** Store a record's result, review or mode (its image was stored when it was added). */
  async put(rec) {
    await this._tx('readwrite', (os) => os.put(withoutImage(rec)));
    return rec;
  }

  /** Store several records in one transaction (all or none), as put(); the images of the ids in
   *  `dropImages` are deleted with them (the record stays, without its image). */
  async putMany(recs, dropImages = []) {
    await this._tx(
      'readwrite',
      (cells, images) => {
        for (const r of recs) cells.put(withoutImage(r));
        for (const id of dropImages) images.delete(id);
      },
      dropImages.length ? [STORE, IMAGES] : [STORE],
    );
    return recs;
  }

  /** The records of one session, in the order added, each with its image (blob). */
  async ofSession(id) {
    return this._tx(
      'readonly',
      (cells, images) => {
        const out = [];
        const blobs = new Map();
        const only = IDBKeyRange.only(id);
        images.index('session').getAll(only).onsuccess = (ev) => {
          for (const im of ev.target.result) blobs.set(im.id, im.blob);
        };
        cells.index('session').getAll(only).onsuccess = (ev) => {
          // requests of one transaction succeed in the order made: the images are in by now
          for (const r of ev.target.result.sort((a, b) => a.id - b.id)) {
            if (blobs.has(r.id)) r.blob = blobs.get(r.id);
            out.push(r);
          }
        };
        return out;
      },
      [STORE, IMAGES],
    );
  }

  async remove(ids) {
    await this._tx(
      'readwrite',
      (cells, images) => {
        for (const id of ids) {
          cells.delete(id);
          images.delete(id);
        }
      },
      [STORE, IMAGES],
    );
  }

  /** Delete the records of one session (the session stays). */
  async clearSession(id) {
    await this._tx(
      'readwrite',
      (cells, images) => {
        deleteOfSession(cells, id);
        deleteOfSession(images, id);
      },
      [STORE, IMAGES],
    );
  }
}

/**
 * Delete every record of one session from an object store indexed by session: the keys in one
 * request, then every delete at once (a cursor costs a round trip to the database per record:
 * 0.4-0.7 s for a session of 300 cells).
 */
function deleteOfSession(os, id) {
  os.index('session').getAllKeys(IDBKeyRange.only(id)).onsuccess = (ev) => {
    for (const key of ev.target.result) os.delete(key);
  };
}

/** Sessions by their last change, the latest first (then the newest). */
function latestFirst(a, b) {
  return (b.updated || '').localeCompare(a.updated || '') || b.id - a.id;
}

/** A record as the cells store keeps it: without its image (the images store has it). */
function withoutImage(rec) {
  const { blob: _image, ...rest } = rec;
  return rest;
}
