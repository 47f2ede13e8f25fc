"""model/heatmap_eval.py's pieces on synthetic images (seconds): the stain rule, the occluded
copies (black surround kept), the per-pixel mean, the peak; and, with the shipped weights, that
its occlusion map matches the one computed by hand on a fixture cell.
Run: /usr/bin/python3 -m unittest discover -s tests/python -v
"""
import os
import sys
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "model"))
import common  # noqa: E402
import heatmap_eval as he  # noqa: E402

CELL = os.path.join(
    ROOT, "tests", "fixtures", "cells", "Parasitized_C111P72ThinF_IMG_20150930_112609_cell_170.png"
)


def synthetic_cell(spot=True):
    """A pink disc on black, 120 x 110, with a dark purple 5 x 5 spot at (x 70, y 40)."""
    img = np.zeros((110, 120, 3), np.uint8)
    yy, xx = np.mgrid[:110, :120]
    disc = ((xx - 60) / 55.0) ** 2 + ((yy - 55) / 50.0) ** 2 <= 1
    img[disc] = (215, 150, 165)
    if spot:
        img[38:43, 68:73] = (120, 40, 150)
    return img


class StainRuleTest(unittest.TestCase):
    def test_finds_the_spot(self):
        cell, para = he.parasite_mask(synthetic_cell())
        self.assertIsNotNone(para)
        ys, xs = np.nonzero(para)
        self.assertEqual(int(para.sum()), 25)
        self.assertEqual((xs.min(), xs.max(), ys.min(), ys.max()), (68, 72, 38, 42))
        self.assertTrue(cell[55, 60])
        self.assertFalse(cell[0, 0])

    def test_none_without_a_spot(self):
        self.assertIsNone(he.parasite_mask(synthetic_cell(spot=False))[1])

    def test_too_small_or_not_purple(self):
        img = synthetic_cell(spot=False)
        img[40:42, 70:73] = (120, 40, 150)  # 6 px: below the 8 px minimum
        self.assertIsNone(he.parasite_mask(img)[1])
        img = synthetic_cell(spot=False)
        img[38:43, 68:73] = (150, 60, 40)  # dark but blue < green: not Giemsa chromatin
        self.assertIsNone(he.parasite_mask(img)[1])


class OcclusionTest(unittest.TestCase):
    def test_positions(self):
        self.assertEqual(he.positions(64, 6, 4), list(range(0, 57, 4)) + [58])
        self.assertEqual(he.positions(64, 8, 4), list(range(0, 57, 4)))

    def test_copies_keep_the_black_surround(self):
        x = common.area_resize_u8(synthetic_cell(), 64)
        occ, pos, index = he.occluded_batch(x, 6, 4)
        mask = he.cell_mask_s(x)
        self.assertEqual(len(pos), 16 * 16)
        self.assertEqual(len(occ), sum(i >= 0 for i in index))
        self.assertLess(len(occ), len(pos))  # the corners touch no cell pixel
        fill = (2 * x[mask].astype(np.int64).sum(0) + mask.sum()) // (2 * mask.sum())
        for (py, px), i in zip(pos, index):
            if i < 0:
                self.assertFalse(mask[py : py + 6, px : px + 6].any())
                continue
            o = occ[i]
            np.testing.assert_array_equal(o[~mask], x[~mask])  # black stays black
            win = np.zeros_like(mask)
            win[py : py + 6, px : px + 6] = True
            np.testing.assert_array_equal(o[win & mask], np.broadcast_to(fill, o[win & mask].shape))
            np.testing.assert_array_equal(o[~win], x[~win])

    def test_mean_and_peak(self):
        pos = [(py, px) for py in he.positions(16, 4, 2) for px in he.positions(16, 4, 2)]
        drops = [1.0 if (py, px) == (6, 8) else 0.0 for py, px in pos]
        m = he.accumulate(drops, pos, 16, 4)
        # each pixel of the patch (rows 6-9, cols 8-11) is covered by 2 x 2 patches -> 1/4
        self.assertAlmostEqual(float(m[7, 9]), 0.25)
        self.assertAlmostEqual(float(m[9, 11]), 0.25)
        self.assertEqual(float(m[0, 0]), 0.0)
        self.assertEqual(
            he.peak(m, np.ones((16, 16), bool)), (10.0, 8.0)
        )  # the tied block's centre
        mask = np.ones((16, 16), bool)
        mask[6:10, 8:12] = False  # the peak outside the cell does not count
        x, y = he.peak(m, mask)
        self.assertTrue(mask[int(y), int(x)])


class ShippedModelTest(unittest.TestCase):
    def test_map_by_hand(self):
        net = he.Net(os.path.join(ROOT, "model"))
        x = common.area_resize_u8(common.decode_rgb(CELL), net.S)
        mz, _, _, passes = he.occlusion(net, x, 6, 4)
        occ, pos, index = he.occluded_batch(x, 6, 4)
        z0 = net.logits(x[None])[0, 1]
        k = int(np.argmax([-1 if i < 0 else 0 for i in index]))  # the first position that touches
        py, px = pos[k]
        z = net.logits(occ[index[k]][None])[0, 1]
        cover = [(qy, qx) for qy, qx in pos if qy <= py < qy + 6 and qx <= px < qx + 6]
        self.assertEqual(passes, 1 + len(occ))
        self.assertGreaterEqual(len(cover), 1)
        if len(cover) == 1:
            self.assertAlmostEqual(float(mz[py, px]), float(z0 - z), places=4)
        self.assertGreater(
            float(mz.max()), 0.1
        )  # occluding this parasitized cell matters somewhere


if __name__ == "__main__":
    unittest.main()
