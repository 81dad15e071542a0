"""
Explain an image classifier (superpixels)
=========================================

A toy "person detector" scores the share of skin-coloured pixels in scikit-image's
astronaut photo. limekit cuts the photo into quickshift superpixels, hides random subsets
of them and finds the superpixels that carry the prediction.
"""

import matplotlib.pyplot as plt
from skimage.data import astronaut
from skimage.transform import resize

from limekit import ImageExplainer
from limekit.datasets import skin_tone_probability
from limekit.viz import image_overlay, superpixel_heatmap

image = (resize(astronaut(), (192, 192), anti_aliasing=True) * 255).astype("uint8")
explainer = ImageExplainer(class_names=["no person", "person"], random_state=0)
exp = explainer.explain_instance(
    image, skin_tone_probability, labels=(1,), top_labels=None, hide_color=0, num_samples=500, batch_size=100
)
print(f"P(person) = {exp.predict_proba[1]:.3f}; {exp.diagnostics['n_segments']} superpixels")
print(exp.as_list(label=1)[:5])

# %%
# The overlay marks the five superpixels with the largest weights: green for "person",
# red against it.

image_overlay(exp, 1, num_features=5)
plt.show()

# %%
# The heat map colours every superpixel by its weight.

superpixel_heatmap(exp, 1)
plt.show()

# %%
# ``get_image_and_mask`` is lime's accessor, for drawing the result yourself.

img, mask = exp.get_image_and_mask(1, positive_only=False, num_features=5, hide_rest=False)
print(img.shape, mask.shape, sorted(set(mask.ravel().tolist())))

# %%
# The HTML page embeds the overlay.

exp
