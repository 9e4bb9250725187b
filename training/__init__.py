"""Classification and detection training on the label system (timm, mmdet). Not built yet."""
