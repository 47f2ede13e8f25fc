// camera.js -- microscope camera capture: choose a camera, capture a still of the whole frame
// (not mirrored) as a PNG Blob; the page reads it like a dropped file (a field or a cut-out cell).

import { t } from './i18n.js';

const PROMPT_TIMEOUT_MS = 10000;

export function cameraErrorMessage(e) {
  const name = e && e.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return t('camera.denied');
  }
  if (
    name === 'NotFoundError' ||
    name === 'OverconstrainedError' ||
    name === 'DevicesNotFoundError'
  ) {
    return t('camera.notFound');
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return t('camera.inUse');
  }
  return t('camera.failed', { error: (e && (e.message || e.name)) || t('camera.unknownError') });
}

export class Camera {
  /**
   * @param {{video: HTMLVideoElement, select: HTMLSelectElement, onMessage: (text: string) => void}} ui
   */
  constructor(ui) {
    this.ui = ui;
    this.stream = null;
    this.token = 0; // counts start() and stop() calls: a start that a later one overtook gives up
  }

  /** Why the camera cannot be used here, or null. */
  static unavailableReason() {
    if (!globalThis.isSecureContext) {
      return t('camera.insecure');
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return t('camera.unsupported');
    }
    return null;
  }

  /**
   * Start the camera (deviceId: the one chosen). Resolves to true once its picture shows, or to
   * false when a later start() or a stop() came meanwhile: a stream that arrives then (the user
   * closed the camera while the permission prompt was up; two quick starts) is stopped at once.
   */
  async start(deviceId) {
    const why = Camera.unavailableReason();
    if (why) throw Object.assign(new Error(why), { name: 'Unavailable', friendly: why });
    this.stop(); // a start still waiting for its stream gives up too
    const token = this.token;
    const current = () => token === this.token;
    const constraints = {
      audio: false,
      video: deviceId
        ? { deviceId: { exact: deviceId } }
        : { width: { ideal: 1920 }, height: { ideal: 1080 } },
    };
    // A permission prompt that nobody answers never settles: tell the user what is going on.
    const timer = setTimeout(() => {
      if (current()) this.ui.onMessage(t('camera.waitPermission'));
    }, PROMPT_TIMEOUT_MS);
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(constraints);
    } catch (e) {
      if (!current()) return false;
      throw Object.assign(e instanceof Error ? e : new Error(String(e)), {
        friendly: cameraErrorMessage(e),
      });
    } finally {
      clearTimeout(timer);
    }
    if (!current()) {
      for (const track of stream.getTracks()) track.stop();
      return false;
    }
    this.stream = stream;
    const v = this.ui.video;
    v.srcObject = stream;
    await v.play().catch(() => {});
    if (!v.videoWidth) {
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 3000);
        v.addEventListener(
          'loadedmetadata',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
    if (!current()) return false; // stop() has stopped this stream
    await this.listDevices(stream.getVideoTracks()[0]);
    if (!current()) return false;
    this.ui.onMessage('');
    return true;
  }

  async listDevices(activeTrack) {
    const devices = (await navigator.mediaDevices.enumerateDevices()).filter(
      (d) => d.kind === 'videoinput',
    );
    const sel = this.ui.select;
    const active = activeTrack && activeTrack.getSettings ? activeTrack.getSettings().deviceId : '';
    sel.textContent = '';
    devices.forEach((d, i) => {
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || t('camera.nth', { n: i + 1 });
      if (d.deviceId === active) o.selected = true;
      sel.append(o);
    });
    sel.disabled = devices.length < 2;
  }

  /** The whole frame, at the camera's resolution, as a PNG Blob. */
  async capture() {
    const v = this.ui.video;
    if (!this.stream || !v.videoWidth) throw new Error(t('camera.notRunning'));
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d').drawImage(v, 0, 0);
    return new Promise((resolve, reject) =>
      canvas.toBlob(
        (b) => (b ? resolve(b) : reject(new Error(t('camera.captureFailed')))),
        'image/png',
      ),
    );
  }

  /** Stop the camera, and any start() still waiting for its stream. */
  stop() {
    this.token++;
    if (this.stream) for (const t of this.stream.getTracks()) t.stop();
    this.stream = null;
    if (this.ui.video) this.ui.video.srcObject = null;
  }
}
