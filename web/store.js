// store.js -- results (and the images of a batch not yet classified) in IndexedDB, so a reload in
// the middle of a batch loses nothing. One object store, one record per image:
//   {id, batch, name, blob, mode: 'auto'|'cell'|'field' (as asked), status: 'pending'|'done'|'error',
//    result?, error?}
// result is the classifier's as it came: a cut-out cell's, or a whole field's with its cells
// (box, status, call, outline) in the same record.
const DB_NAME = 'malaria-screen';
const STORE = 'cells';

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class ResultStore {
  static async open() {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'id', autoIncrement: true });
    };
    const s = new ResultStore();
    s.db = await req(open);
    return s;
  }

  _tx(mode, fn) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(STORE, mode);
      let out;
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
      out = fn(tx.objectStore(STORE));
    });
  }

  /** Add pending records for files ({name, blob}); resolves to the records with their ids. */
  async addPending(batch, items) {
    const recs = items.map((it) => ({ batch, name: it.name, blob: it.blob, mode: it.mode || 'auto', status: 'pending' }));
    await this._tx('readwrite', (os) => {
      for (const r of recs) { os.add(r).onsuccess = (ev) => { r.id = ev.target.result; }; }
    });
    return recs;
  }

  async put(rec) {
    await this._tx('readwrite', (os) => os.put(rec));
    return rec;
  }

  async all() {
    return this._tx('readonly', (os) => {
      const out = [];
      os.openCursor().onsuccess = (ev) => {
        const c = ev.target.result;
        if (c) { out.push(c.value); c.continue(); }
      };
      return out;
    });
  }

  async remove(ids) {
    await this._tx('readwrite', (os) => { for (const id of ids) os.delete(id); });
  }

  async clear() {
    await this._tx('readwrite', (os) => os.clear());
  }
}
