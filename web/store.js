// store.js -- sessions, and the results (and the images of a batch not yet classified) in
// IndexedDB, so a reload in the middle of a batch loses nothing. Two object stores:
//   sessions: {id, created, updated, operator}   (one sitting's work, ISO times)
//   cells:    one record per image, indexed by session:
//     {id, session, slide, batch, name, blob, mode: 'auto'|'cell'|'field' (as asked),
//      status: 'pending'|'done'|'error', result?, error?, review?, reviews?}
// result is the classifier's as it came: a cut-out cell's, or a whole field's with its cells
// (box, status, call, outline) in the same record. Results stored before sessions existed
// (version 1) are moved into one session, "earlier results", when the database is upgraded.
// A write that does not fit rejects with the browser's error (name 'QuotaExceededError' when the
// device's storage is full): the page says so.
const DB_NAME = 'malaria-screen';
const STORE = 'cells';
const SESSIONS = 'sessions';
const ADD_STEP = 32; // pending records added in one task (each holds an image)

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class ResultStore {
  static async open() {
    const open = indexedDB.open(DB_NAME, 2);
    open.onupgradeneeded = (ev) => {
      const db = open.result;
      const tx = open.transaction;
      const cells = db.objectStoreNames.contains(STORE)
        ? tx.objectStore(STORE)
        : db.createObjectStore(STORE, { keyPath: 'id', autoIncrement: true });
      if (!cells.indexNames.contains('session')) cells.createIndex('session', 'session');
      if (!db.objectStoreNames.contains(SESSIONS)) {
        const sessions = db.createObjectStore(SESSIONS, { keyPath: 'id', autoIncrement: true });
        if (ev.oldVersion >= 1) {
          // results from before sessions: one session of their own
          const now = new Date().toISOString();
          sessions.add({ created: now, updated: now, operator: '', legacy: true }).onsuccess = (
            e,
          ) => {
            const sid = e.target.result;
            cells.openCursor().onsuccess = (c) => {
              const cur = c.target.result;
              if (!cur) return;
              if (cur.value.session === undefined)
                cur.update({ ...cur.value, session: sid, slide: cur.value.slide || '' });
              cur.continue();
            };
          };
        }
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

  /** Every session with its counts: [{...session, images, slides: [ids]}], the latest first. */
  async sessions() {
    const [list, counts] = await this._tx(
      'readonly',
      (ss, cs) => {
        const out = [[], new Map()];
        ss.getAll().onsuccess = (ev) => {
          out[0] = ev.target.result;
        };
        cs.openCursor().onsuccess = (ev) => {
          const c = ev.target.result;
          if (!c) return;
          const k = c.value.session;
          if (!out[1].has(k)) out[1].set(k, { images: 0, slides: new Set() });
          out[1].get(k).images++;
          out[1].get(k).slides.add(c.value.slide || '');
          c.continue();
        };
        return out;
      },
      [SESSIONS, STORE],
    );
    return list
      .map((s) => ({
        ...s,
        images: (counts.get(s.id) || { images: 0 }).images,
        slides: [...((counts.get(s.id) || {}).slides || [])],
      }))
      .sort((a, b) => (b.updated || '').localeCompare(a.updated || '') || b.id - a.id);
  }

  /** Delete a session and every record of it. */
  async deleteSession(id) {
    await this._tx(
      'readwrite',
      (ss, cs) => {
        ss.delete(id);
        cs.index('session').openKeyCursor(IDBKeyRange.only(id)).onsuccess = (ev) => {
          const c = ev.target.result;
          if (c) {
            cs.delete(c.primaryKey);
            c.continue();
          }
        };
      },
      [SESSIONS, STORE],
    );
  }

  // --- records

  /** Add pending records for files ({name, blob, slide, mode}) to a session; resolves to the
   *  records with their ids. */
  async addPending(session, batch, items) {
    const recs = items.map((it) => ({
      session,
      slide: it.slide || '',
      batch,
      name: it.name,
      blob: it.blob,
      mode: it.mode || 'auto',
      status: 'pending',
    }));
    // ADD_STEP records a task: the next step is added from the success of the last request of
    // the one before (the transaction stays open), so storing thousands of images at once is
    // one transaction but never one long task
    await this._tx('readwrite', (os) => {
      let i = 0;
      const step = () => {
        const end = Math.min(recs.length, i + ADD_STEP);
        for (; i < end; i++) {
          const r = recs[i];
          const last = i === end - 1 && end < recs.length;
          os.add(r).onsuccess = (ev) => {
            r.id = ev.target.result;
            if (last) step();
          };
        }
      };
      step();
    });
    return recs;
  }

  async put(rec) {
    await this._tx('readwrite', (os) => os.put(rec));
    return rec;
  }

  /** Store several records in one transaction (all or none). */
  async putMany(recs) {
    await this._tx('readwrite', (os) => {
      for (const r of recs) os.put(r);
    });
    return recs;
  }

  /** The records of one session, in the order added. */
  async ofSession(id) {
    return this._tx('readonly', (os) => {
      const out = [];
      os.index('session').getAll(IDBKeyRange.only(id)).onsuccess = (ev) => {
        out.push(...ev.target.result.sort((a, b) => a.id - b.id));
      };
      return out;
    });
  }

  async remove(ids) {
    await this._tx('readwrite', (os) => {
      for (const id of ids) os.delete(id);
    });
  }

  /** Delete the records of one session (the session stays). */
  async clearSession(id) {
    await this._tx('readwrite', (os) => {
      os.index('session').openKeyCursor(IDBKeyRange.only(id)).onsuccess = (ev) => {
        const c = ev.target.result;
        if (c) {
          os.delete(c.primaryKey);
          c.continue();
        }
      };
    });
  }
}
